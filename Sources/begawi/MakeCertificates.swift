import ArgumentParser
import BegawiCore
import Foundation

/// `begawi hub make-certificates`: a private CA and the hub's certificate, made with `openssl`.
struct MakeCertificates: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-certificates",
        abstract: "Make a private CA (ca.crt, ca.key) and a hub certificate (hub.crt, hub.key) signed by it, with openssl. When the folder already holds ca.crt and ca.key, only a new hub certificate and key are made, signed by that CA (a renewal the sites keep trusting).")
    @Option(help: "The folder to write the files to.") var out: String
    @Option(help: "A DNS name or IP address of the hub (repeat for several).") var name: [String] = ["localhost", "127.0.0.1"]
    @Option(help: "Validity in days.") var days = 825

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let alt = name.map { n in n.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) ? "IP:\(n)" : "DNS:\(n)" }.joined(separator: ",")
        let d = out
        let fm = FileManager.default
        let renewal = fm.fileExists(atPath: "\(d)/ca.crt") && fm.fileExists(atPath: "\(d)/ca.key")
        if !renewal {
            try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "\(days)",
                          "-subj", "/CN=Begawi private CA", "-keyout", "\(d)/ca.key", "-out", "\(d)/ca.crt",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=\(name.first ?? "hub")",
                          "-keyout", "\(d)/hub.key", "-out", "\(d)/hub.csr"])
        let ext = "\(d)/hub.ext"
        try "subjectAltName=\(alt)\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            .write(toFile: ext, atomically: true, encoding: .utf8)
        try Self.openssl(["x509", "-req", "-in", "\(d)/hub.csr", "-CA", "\(d)/ca.crt", "-CAkey", "\(d)/ca.key", "-CAcreateserial",
                          "-days", "\(days)", "-extfile", ext, "-out", "\(d)/hub.crt"])
        for f in ["hub.csr", "hub.ext", "ca.srl"] { try? FileManager.default.removeItem(atPath: "\(d)/\(f)") }
        chmod("\(d)/ca.key", 0o600)
        chmod("\(d)/hub.key", 0o600)
        if renewal {
            print("wrote \(d)/hub.crt and \(d)/hub.key, signed by the CA already in \(d) (sites keep their ca.crt)")
        } else {
            print("wrote \(d)/ca.crt (give it to every site), \(d)/hub.crt and \(d)/hub.key (the hub's), \(d)/ca.key (keep offline)")
        }
    }

    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw BegawiError(.configuration, "cannot run /usr/bin/openssl; install it (apt-get install openssl)", cause: "\(error)")
        }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BegawiError(.configuration, "openssl \(arguments.first ?? "") failed", cause: text)
        }
    }
}
