import BegawiTestSupport
import Foundation
import Testing

/// Debian's systemd 252 booted as PID 1 in namespaces by `../shared/lab/systemd-container`, on an
/// overlay of this host's `/` that vanishes with it; `share` is `/mnt/share` inside.
final class SystemdContainer {
    let state: String
    var share: String { "\(state)/share" }

    /// The lab's script: `BEGAWI_SHARED` or the `shared` folder beside the repository.
    static var script: String {
        let shared = ProcessInfo.processInfo.environment["BEGAWI_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? Repository.root.deletingLastPathComponent().appendingPathComponent("shared")
        return shared.appendingPathComponent("lab/systemd-container").path
    }

    /// Why no container can boot here, or nil when one can.
    static var unavailable: String? {
        if geteuid() != 0 { return "needs root (it boots systemd in new namespaces)" }
        if !FileManager.default.isExecutableFile(atPath: script) { return "\(script) is missing" }
        let filesystems = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
        if !filesystems.contains("\toverlay\n") { return "the kernel has no overlayfs" }
        for tool in ["/usr/bin/unshare", "/usr/bin/nsenter", "/usr/bin/setpriv", "/lib/systemd/systemd"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing"
        }
        return nil
    }

    /// A condition for `.enabled(if:)` that prints why the suite is skipped.
    static func bootable() -> Bool {
        guard let reason = unavailable else { return true }
        print("SystemdContainerTests skipped: \(reason)")
        return false
    }

    /// Boots systemd; returns once `systemctl is-system-running` answers.
    init() throws {
        state = NSTemporaryDirectory() + "begawi-systemd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(state)/share", withIntermediateDirectories: true)
        let (status, output) = try SystemdContainer.run([SystemdContainer.script, "boot", state])
        guard status == 0 else {
            try? FileManager.default.removeItem(atPath: state)
            throw ClusterError("systemd-container boot exited \(status): \(output)")
        }
    }

    deinit {
        _ = try? SystemdContainer.run([SystemdContainer.script, "stop", state])
        if ProcessInfo.processInfo.environment["BEGAWI_KEEP_TEST_FILES"] == nil {
            try? FileManager.default.removeItem(atPath: state)
        }
    }

    /// Runs a shell script inside, as root, under `timeout` (no step may hang the suite); its exit
    /// status and its output and errors together.
    @discardableResult
    func sh(_ script: String, timeout: Int = 60) throws -> (status: Int32, output: String) {
        try SystemdContainer.run([SystemdContainer.script, "exec", state, "timeout", "\(timeout)", "/bin/sh", "-c", script])
    }

    /// Runs a shell script inside and throws unless it exits 0; its output.
    @discardableResult
    func must(_ script: String, timeout: Int = 60) throws -> String {
        let (status, output) = try sh(script, timeout: timeout)
        guard status == 0 else { throw ClusterError("inside the container, exit \(status):\n$ \(script)\n\(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls a script until it exits 0 or `seconds` pass; true if it did.
    func waitFor(_ script: String, seconds: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if try sh(script, timeout: 10).status == 0 { return true }
            Thread.sleep(forTimeInterval: 0.25)
        } while Date() < deadline
        return false
    }

    /// A script's output for a message, whatever its exit status.
    func show(_ script: String) -> String {
        (try? sh(script, timeout: 10).output) ?? "(no answer)"
    }

    /// A unit's property (`systemctl show -p NAME --value`).
    func property(_ unit: String, _ name: String) throws -> String {
        try must("systemctl show -p \(name) --value \(unit)")
    }

    /// Runs a program to its end; its exit status and its output and errors together (`boot` leaves
    /// a grandchild, the container's PID 1, running: `ChildProcess.runLeavingDaemon`).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        do {
            return try ChildProcess.runLeavingDaemon(arguments)
        } catch let failure as ChildProcess.SpawnFailure {
            throw ClusterError("\(failure)")
        }
    }
}
