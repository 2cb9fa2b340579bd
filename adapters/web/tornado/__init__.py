"""The Tornado front end.

`app.create_app` builds a `tornado.web.Application` from the use cases (handlers get them
through `initialize(**deps)`); `server.TornadoServer` serves it. Nothing in here decides
anything: it translates requests into use-case calls.
"""
