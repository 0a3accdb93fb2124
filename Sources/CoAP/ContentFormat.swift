/// CoAP Content-Format identifiers (IANA registry) used by LwM2M.
public enum ContentFormat {
    public static let textPlain: UInt16 = 0
    public static let linkFormat: UInt16 = 40
    public static let octetStream: UInt16 = 42
    public static let json: UInt16 = 50
    public static let cbor: UInt16 = 60
    public static let senmlJSON: UInt16 = 110
    public static let senmlCBOR: UInt16 = 112
    public static let lwm2mTLV: UInt16 = 11542
    public static let lwm2mJSON: UInt16 = 11543
    public static let lwm2mCBOR: UInt16 = 11544
}
