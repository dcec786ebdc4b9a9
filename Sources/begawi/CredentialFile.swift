import BegawiCore
import Foundation

/// A new file for a site's credential, made before the hub changes anything: created exclusively
/// (never over an existing file, which may hold another site's credential) with mode 0600.
struct CredentialFile {
    let path: String
    private let descriptor: Int32

    /// Creates the file, or refuses when anything already exists at the path.
    static func create(_ path: String) throws -> CredentialFile {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            let problem = errno
            if problem == EEXIST {
                throw BegawiError(.invalidArgument, "\(path) already exists and may hold another site's credential; nothing was changed. Name a new file, or move that one away first")
            }
            throw BegawiError(.invalidArgument, "cannot create \(path) (\(String(cString: strerror(problem)))); nothing was changed. Name a file in a writable folder")
        }
        return CredentialFile(path: path, descriptor: descriptor)
    }

    /// Writes the token and a newline, flushes it to disk and closes the file.
    func write(_ token: String) throws {
        defer { close(descriptor) }
        let bytes = Array((token + "\n").utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                throw BegawiError(.storage, "cannot write \(path) (\(String(cString: strerror(errno))))")
            }
            written += n
        }
        guard fsync(descriptor) == 0 else { throw BegawiError(.storage, "cannot flush \(path) (\(String(cString: strerror(errno))))") }
    }

    /// Closes and removes the file, when the hub refused the change it was made for.
    func discard() {
        close(descriptor)
        unlink(path)
    }
}
