public import BegawiCore
import Crypto
public import Foundation
import SwiftASN1
import X509

/// A private certificate authority and the TLS server certificates it signs, made in-process with
/// swift-certificates (P-256 keys, ECDSA with SHA-256): the hub's certificates and the tests'.
public enum PrivateCA {
    /// Makes a self-signed CA named `commonName`, valid for `days` from now.
    public static func make(commonName: String, days: Int, now: Date = Date()) throws(BegawiError) -> PEMPair {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        return try pem(key: Certificate.PrivateKey(key)) {
            let name = try DistinguishedName { CommonName(commonName) }
            return try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: now - 300, notValidAfter: try validUntil(now, days: days),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(key))
        }
    }

    /// Makes a server certificate for `names` (DNS names, or IPv4/IPv6 addresses), signed by `issuer`
    /// (a CA made here or by openssl: its key may be P-256, P-384, P-521 or RSA), valid for `days`.
    public static func issue(for names: [String], commonName: String, by issuer: PEMPair, days: Int, now: Date = Date()) throws(BegawiError) -> PEMPair {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let (caCertificate, caKey) = try load(issuer)
        let alternativeNames = try names.map(generalName)
        return try pem(key: Certificate.PrivateKey(key)) {
            let authority = try caCertificate.extensions.subjectKeyIdentifier?.keyIdentifier
            return try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: now - 300, notValidAfter: try validUntil(now, days: days),
                issuer: caCertificate.subject, subject: try DistinguishedName { CommonName(commonName) },
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    // Clients match names against subjectAltName only; the common name is ignored.
                    SubjectAlternativeNames(alternativeNames)
                    SubjectKeyIdentifier(hash: publicKey)
                    if let authority { AuthorityKeyIdentifier(keyIdentifier: authority) }
                },
                issuerPrivateKey: caKey)
        }
    }

    /// The certificate `make` returns, and the key, as PEM; any failure of swift-certificates as a BegawiError.
    private static func pem(key: Certificate.PrivateKey, _ certificate: () throws -> Certificate) throws(BegawiError) -> PEMPair {
        do {
            return PEMPair(certificate: try certificate().serializeAsPEM().pemString, key: try key.serializeAsPEM().pemString)
        } catch let error as BegawiError {
            throw error
        } catch {
            throw BegawiError(.configuration, "could not make the certificate; report this with the cause", cause: "\(error)")
        }
    }

    private static func load(_ issuer: PEMPair) throws(BegawiError) -> (Certificate, Certificate.PrivateKey) {
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do { certificate = try Certificate(pemEncoded: issuer.certificate) } catch {
            throw BegawiError(.configuration, "the CA certificate is not a PEM certificate; make a new CA in an empty folder", cause: "\(error)")
        }
        do { key = try Certificate.PrivateKey(pemEncoded: issuer.key) } catch {
            throw BegawiError(.configuration, "the CA key is not a PEM private key of a supported kind (EC or RSA); make a new CA in an empty folder", cause: "\(error)")
        }
        guard key.publicKey == certificate.publicKey else {
            throw BegawiError(.configuration, "the CA key does not belong to the CA certificate; keep ca.crt and ca.key together")
        }
        return (certificate, key)
    }

    private static func validUntil(_ now: Date, days: Int) throws(BegawiError) -> Date {
        guard (1...36_500).contains(days) else {
            throw BegawiError(.invalidArgument, "the validity must be between 1 and 36500 days")
        }
        return now + Double(days) * 86_400
    }

    /// An IP address (four or sixteen bytes) when `name` spells one, a DNS name otherwise.
    private static func generalName(_ name: String) throws(BegawiError) -> GeneralName {
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v4) { ArraySlice($0) }))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v6) { ArraySlice($0) }))
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.*".contains($0)) }),
              !name.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) else {
            throw BegawiError(.invalidArgument, "a hub name must be a DNS name (letters, digits, '-' and '.') or an IP address")
        }
        return .dnsName(name)
    }
}
