/// A certificate and its private key, both as PEM text.
public struct PEMPair: Sendable {
    /// The certificate, `-----BEGIN CERTIFICATE-----`.
    public var certificate: String
    /// Its private key (PKCS #8 for the keys made here).
    public var key: String

    /// Pairs a certificate with its key.
    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }
}
