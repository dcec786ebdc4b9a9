/// HMAC-SHA256 (RFC 2104), for keys derived from natural identifiers.
public enum HMACSHA256 {
    /// The 32-byte tag of `message` under `key`.
    public static func tag(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        var block = Array(key)
        if block.count > 64 { block = SHA256.hash(block) }
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = SHA256.hash(block.map { $0 ^ 0x36 } + Array(message))
        return SHA256.hash(block.map { $0 ^ 0x5c } + inner)
    }
}
