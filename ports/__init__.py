"""The boundary of the hexagon: every port, and nothing but the standard library.

Inbound ports are the use cases the web adapters call, bundled in `WebUseCases`
(`web.py`): `Sessions`, `ServerStatus`, `Cors`, `Lifecycle`, `Metrics`, `Media`,
`Uploads`, `Frontend`, `Components`, `AppStatic`, `Auth`, `Agent` and `HttpObserver`.
The runtime calls in through `MediaLibrary` and `UploadedFiles`.

Outbound ports are what the core needs from the world: the app runtime (`AppRuntime`,
`Outbox`, `SessionStateAccess`, and `ServedRuntime` with its roles `ComponentRegistry`
and `MetricsSource`; `AgentRuntime`; `MetricsEncoder`), the browser's socket
(`ClientConnection`, `CloseCause`), `Clock`, `IdSource`, the stores (`MediaStore`,
`UploadStore`, `SessionDirectory`, `SessionPresence`, `SessionSnapshots`), files on disk
(`AssetSource`, and `FileTree`, which makes one per folder), the OIDC provider
(`IdentityProvider`), the wire formats behind libraries (`CookieSigner`, `TokenCodec`,
`MultipartParser`) and `Tracer`. The semantic errors are in `errors.py`.

This package imports the standard library only, so every layer may depend on it and it
depends on nothing. docs/architecture.md lists each port with its file.
"""
