from bench.tasks import make_app
def nohook_app(url):
    app = make_app(url)
    app.store.transition_hooks[:] = [h for h in app.store.transition_hooks if getattr(h, "__name__", "") != "on_transitions"]
    return app
