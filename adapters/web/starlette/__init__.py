"""The Starlette front end, served by uvicorn or mounted in any ASGI application.

`app.create_app` builds the ASGI application from the use cases; `server.UvicornServer`
serves it. Nothing in here decides anything: it translates requests into use-case calls.
"""
