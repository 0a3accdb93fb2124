// `Instant` lives in the Time module (the protocol cores and the outer layer share it, DTLS
// without depending on CoAP). Re-exported so `import CoAP` keeps providing it to the code that
// drives the engine (LwM2M, the executables, the tests).
@_exported import Time
