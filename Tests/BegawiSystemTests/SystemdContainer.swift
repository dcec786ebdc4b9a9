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

    /// Runs a program to its end; its exit status and its output and errors together. Spawned and
    /// reaped by hand, with the output in a file: `boot` leaves a grandchild (the container's PID 1)
    /// running, and Foundation's `Process` was seen never to notice the script's own exit then.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let log = NSTemporaryDirectory() + "begawi-systemd-run-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw ClusterError("cannot start \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}
