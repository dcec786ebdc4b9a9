import Foundation
import Crypto

/// SHA-256 and HMAC-SHA256 through swift-crypto (BoringSSL on Linux, CryptoKit on Apple systems).
///
/// The credentials hashed here are 256-bit random tokens, so a fast unsalted hash is enough: there is
/// nothing to guess. Do not use it for passwords a person chose.
public enum Hashing {
    /// The 32-byte SHA-256 digest of `bytes`.
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        // Whole buffers are hashed in place; only a non-contiguous collection is copied first.
        let digest = bytes.withContiguousStorageIfAvailable { Crypto.SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? Crypto.SHA256.hash(data: Array(bytes))
        return Array(digest)
    }

    /// The SHA-256 digest of `bytes` as 64 lowercase hex characters.
    public static func sha256Hex(_ bytes: some Collection<UInt8>) -> String { Hex.encode(sha256(bytes)) }

    /// The 32-byte HMAC-SHA256 tag (RFC 2104) of `message` under `key`, for keys derived from natural identifiers.
    public static func hmacSHA256(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        let code = HMAC<Crypto.SHA256>.authenticationCode(for: Array(message), using: SymmetricKey(data: Array(key)))
        return Array(code)
    }
}
