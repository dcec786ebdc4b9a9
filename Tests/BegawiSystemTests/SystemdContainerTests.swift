import BegawiTestSupport
import Foundation
import Testing

/// The Debian package under a real systemd 252, with the Swift toolchain hidden: installed with
/// `dpkg -i`, set up by the README's steps for the office's host (the hub and the office's site on
/// one machine), then run as an administrator and the staff would. The package holds the debug
/// binary the suite already built (`make deb BIN=…`); nothing is compiled here.
@Suite(.enabled("needs root, overlayfs and ../shared/lab/systemd-container") { SystemdContainer.bootable() }, .blocking)
struct SystemdContainerTests {
    /// The staff's writes through the `sqlite3` shell, which sets no busy timeout of its own: the
    /// timeout here keeps this test about permissions, not about lock contention.
    static func staffWrites(_ id: String) -> String {
        "runuser -u siti -- sqlite3 -bail -cmd '.timeout 5000' /var/lib/begawi/site.sqlite "
            + "\"INSERT INTO partners(id, kind, name) VALUES ('\(id)', 'lpk', 'LPK \(id)')\""
    }

    static func hubHolds(_ ids: [String]) -> String {
        let list = ids.map { "'\($0)'" }.joined(separator: ",")
        return "test \"$(sqlite3 -cmd '.timeout 5000' /var/lib/begawi-hub/hub.sqlite \"SELECT count(*) FROM partners WHERE id IN (\(list))\")\" = \(ids.count)"
    }

    @Test func packageInstallsAndRunsUnderSystemd() throws {
        let c = try SystemdContainer()

        // The package, made from the binary under test, before anything else can fail.
        let (made, makeOutput) = try SystemdUnitTests().run(
            "/usr/bin/make", ["-s", "deb", "BIN=\(Cluster.binary)", "DEB_DIR=\(c.share)/deb", "DEB_COMPRESS=none"], in: Repository.root)
        try #require(made == 0, "make deb:\n\(makeOutput)")
        let package = try #require(makeOutput.split(separator: "\n").last.map(String.init), "make deb printed no path")
        #expect(package.hasPrefix("\(c.share)/deb/begawi_") && package.hasSuffix(".deb"), "\(makeOutput)")
        let inside = "/mnt/share/deb/" + (package as NSString).lastPathComponent

        // No toolchain: the binary runs on Debian's libraries alone.
        let toolchain = Self.toolchainRoot()
        if let toolchain { try c.must("mount -t tmpfs -o mode=0755 tmpfs '\(toolchain)'") }
        let depends = try c.must("dpkg-deb -f \(inside) Depends")
        for library in ["libsqlite3-0", "libcurl4", "zlib1g", "libc6"] {
            #expect(depends.contains(library), "Depends: \(depends)")
        }
        #expect(!depends.lowercased().contains("swift"), "Depends: \(depends)")
        try c.must("dpkg -i \(inside)", timeout: 120)
        let ldd = try c.must("ldd /usr/bin/begawi")
        #expect(!ldd.contains("not found"), "\(ldd)")
        #expect(!ldd.lowercased().contains("swift") && !ldd.contains("Foundation"), "\(ldd)")
        if let toolchain { #expect(!ldd.contains(toolchain), "\(ldd)") }
        let dynamic = try c.must("readelf -d /usr/bin/begawi")
        #expect(!dynamic.split(separator: "\n").contains { ($0.contains("RUNPATH") || $0.contains("RPATH")) && $0.contains("swift") }, "\(dynamic)")
        #expect(try c.must("begawi version").hasPrefix("begawi "))

        // What the package set up: the user, the folders, the units (neither enabled nor started).
        try c.must("id begawi")
        #expect(try c.must("stat -c '%a %U %G' /var/lib/begawi") == "2770 begawi begawi")
        #expect(try c.must("stat -c '%a %U %G' /var/lib/begawi-hub") == "700 begawi begawi")
        for unit in ["begawi-hub", "begawi-site"] {
            #expect(try c.sh("systemctl is-enabled \(unit)").output.trimmingCharacters(in: .whitespacesAndNewlines) == "disabled")
            #expect(try c.sh("systemctl is-active \(unit)").output.trimmingCharacters(in: .whitespacesAndNewlines) == "inactive")
        }

        try setUpHubAndSite(c)

        // Both services active, with their STATUS lines.
        #expect(try c.property("begawi-hub", "ActiveState") == "active")
        #expect(try c.property("begawi-hub", "StatusText").contains("serving sites on port 8443"))
        #expect(try c.waitFor("systemctl show -p StatusText --value begawi-site | grep -q 'hub reachable'", seconds: 30),
                "site status: \(c.show("systemctl status begawi-site --no-pager"))")

        try staffWriteTheReplica(c)
        try reloadGoodAndBadFiles(c)
        try watchdogRestartsAStoppedDaemon(c)
        try cleanStop(c)
    }

    /// The README's steps for the office's host, `sudo` written as `runuser`.
    func setUpHubAndSite(_ c: SystemdContainer) throws {
        try c.must("""
            set -e
            cp /usr/share/begawi/hub.example.toml /etc/begawi/hub.toml
            cp /usr/share/begawi/handak-begawi.json /etc/begawi/schema.json
            sed -i 's|^listen = .*|listen = "127.0.0.1:8443"|; s|^tls_key = .*|tls_key = "credential:hub.key"|' /etc/begawi/hub.toml
            begawi hub make-certificates --out /root/begawi-ca --name localhost --name 127.0.0.1
            install -m 0644 /root/begawi-ca/hub.crt /root/begawi-ca/ca.crt /etc/begawi/
            install -m 0600 /root/begawi-ca/hub.key /etc/begawi/credentials/hub.key
            runuser -u begawi -- begawi hub init
            begawi hub add-site --id disnaker --kind office --name "Disnaker Kota Bontang" --credential-out /root/disnaker.credential
            systemctl enable --now begawi-hub
            """, timeout: 90)
        try c.must("""
            set -e
            cp /usr/share/begawi/site.example.toml /etc/begawi/site.toml
            sed -i 's|^site_id = .*|site_id = "disnaker"|; s|^hub_url = .*|hub_url = "https://127.0.0.1:8443"|; s|^credential_file = .*|credential_file = "credential:site.credential"|' /etc/begawi/site.toml
            install -m 0600 /root/disnaker.credential /etc/begawi/credentials/site.credential
            systemd-run --quiet --wait --pipe -p User=begawi -p LoadCredential=site.credential:/etc/begawi/credentials/site.credential begawi site init
            systemctl enable --now begawi-site
            useradd --create-home siti
            usermod -aG begawi siti
            """, timeout: 90)
        #expect(try c.must("stat -c '%a %U %G' /var/lib/begawi/site.sqlite") == "660 begawi begawi")
    }

    /// A staff member in group begawi writes while the daemon runs, after a restart, and after a
    /// stop once `-wal` and `-shm` are gone; a daemon started while the staff's shell holds the
    /// files it made opens them; every row reaches the hub. The hub's database stays closed to them.
    func staffWriteTheReplica(_ c: SystemdContainer) throws {
        try c.must(Self.staffWrites("lpk-running"))
        try c.must("systemctl restart begawi-site")
        try c.must(Self.staffWrites("lpk-restarted"))
        // The daemon keeps -wal and -shm when it stops (GRDB's persistent WAL); another program
        // closing last (an administrator's shell here) removes them, and the staff's next write
        // must make them anew.
        try c.must("systemctl stop begawi-site")
        #expect(try c.must("sqlite3 /var/lib/begawi/site.sqlite \"SELECT count(*) FROM partners WHERE id LIKE 'lpk-%'\"") == "2")
        let left = try c.must("ls -a /var/lib/begawi")
        #expect(!left.contains("site.sqlite-wal") && !left.contains("site.sqlite-shm"), "after a stop: \(left)")
        try c.must(Self.staffWrites("lpk-stopped"))
        #expect(try c.must("runuser -u siti -- sqlite3 /var/lib/begawi/site.sqlite \"SELECT count(*) FROM partners WHERE id LIKE 'lpk-%'\"") == "3")

        // The staff's shell makes -wal and -shm (the daemon stopped) and keeps them open while the
        // daemon starts: they belong to the group, with the replica's mode.
        try c.must("""
            { (printf "INSERT INTO partners(id, kind, name) VALUES ('lpk-held', 'lpk', 'LPK held');\\n"; sleep 6) \
                | runuser -u siti -- sqlite3 /var/lib/begawi/site.sqlite; } >/dev/null 2>&1 &
            sleep 1
            """)
        let held = try c.must("stat -c '%a %U %G' /var/lib/begawi/site.sqlite-wal /var/lib/begawi/site.sqlite-shm")
        #expect(held == "660 siti begawi\n660 siti begawi", "\(held)")
        try c.must("systemctl start begawi-site")
        let rows = ["lpk-running", "lpk-restarted", "lpk-stopped", "lpk-held"]
        #expect(try c.waitFor(Self.hubHolds(rows), seconds: 30), "rows missing at the hub; site: \(c.show("journalctl -u begawi-site -n 30 --no-pager"))")

        // The hub's database: no way in for the staff's group.
        #expect(try c.sh("runuser -u siti -- sqlite3 /var/lib/begawi-hub/hub.sqlite 'SELECT count(*) FROM partners'").status != 0)
        #expect(try c.sh("runuser -u siti -- cat /var/lib/begawi-hub/hub.sqlite >/dev/null").status != 0)
        #expect(try c.sh("runuser -u siti -- ls /var/lib/begawi-hub").status != 0)
    }

    /// `systemctl reload` with a good file (taken) and a bad one (refused, logged, daemon running
    /// on with the same process), for both units.
    func reloadGoodAndBadFiles(_ c: SystemdContainer) throws {
        for (unit, file) in [("begawi-site", "site.toml"), ("begawi-hub", "hub.toml")] {
            let pid = try c.property(unit, "MainPID")
            let count = { (text: String) in "test \"$(journalctl -u \(unit) -o cat | grep -c '\(text)')\" -ge" }
            try c.must("systemctl reload \(unit)")
            #expect(try c.waitFor("\(count("configuration reloaded")) 1", seconds: 10), "\(unit): no 'configuration reloaded' in the journal")
            try c.must("cp /etc/begawi/\(file) /root/\(file).good && echo 'not_a_key = 1' >> /etc/begawi/\(file) && systemctl reload \(unit)")
            #expect(try c.waitFor("\(count("configuration not reloaded")) 1", seconds: 10), "\(unit): no 'configuration not reloaded' in the journal")
            try c.must("cp /root/\(file).good /etc/begawi/\(file)")
            #expect(try c.property(unit, "ActiveState") == "active")
            #expect(try c.property(unit, "MainPID") == pid, "\(unit) restarted on reload")
        }
    }

    /// With `WatchdogSec=5s` from a drop-in, a daemon stopped by SIGSTOP is aborted and started
    /// again within WatchdogSec + 10 s (RestartSec is 5 s): the abort ends it at once.
    func watchdogRestartsAStoppedDaemon(_ c: SystemdContainer) throws {
        var before: [String: String] = [:]
        for unit in ["begawi-site", "begawi-hub"] {
            // A dynamically linked daemon lingered 30 s here: Swift's backtracer, unable to start
            // under MemoryDenyWriteExecute=, held the aborting process until TimeoutStopSec.
            #expect(try c.property(unit, "Environment").contains("SWIFT_BACKTRACE=enable=no"))
            #expect(try c.property(unit, "TimeoutAbortUSec") == "10s")
            try c.must("mkdir -p /etc/systemd/system/\(unit).service.d && printf '[Service]\\nWatchdogSec=5s\\n' > /etc/systemd/system/\(unit).service.d/watchdog.conf")
        }
        try c.must("systemctl daemon-reload && systemctl restart begawi-hub begawi-site")
        for unit in ["begawi-site", "begawi-hub"] {
            before[unit] = try c.property(unit, "MainPID")
        }
        let started = Date()
        try c.must("kill -STOP \(before["begawi-site"]!) \(before["begawi-hub"]!)")
        for unit in ["begawi-site", "begawi-hub"] {
            let old = before[unit]!
            let back = try c.waitFor("""
                pid=$(systemctl show -p MainPID --value \(unit)); \
                [ "$pid" != 0 ] && [ "$pid" != \(old) ] && [ "$(systemctl is-active \(unit))" = active ] && ! kill -0 \(old) 2>/dev/null
                """, seconds: 25)
            let elapsed = Date().timeIntervalSince(started)
            #expect(back && elapsed <= 15, "\(unit): back \(back) after \(Int(elapsed)) s\n\(c.show("journalctl -u \(unit) -n 30 --no-pager"))")
            #expect(try c.must("journalctl -u \(unit) -o cat").contains("Watchdog timeout"))
        }
        #expect(try c.waitFor("systemctl show -p StatusText --value begawi-site | grep -q 'hub reachable'", seconds: 30))
    }

    /// `systemctl stop`: each daemon ends by itself, exit 0, well before TimeoutStopSec; both units
    /// score as hardened online as offline; `dpkg -r` leaves people's records behind.
    func cleanStop(_ c: SystemdContainer) throws {
        for unit in ["begawi-hub", "begawi-site"] {
            let line = try c.must("systemd-analyze security \(unit).service | grep 'Overall exposure level'")
            let score = line.split(separator: ":").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") }
            #expect((score ?? 10) <= 1.5, "\(unit): \(line)")
        }
        for unit in ["begawi-site", "begawi-hub"] {
            let started = Date()
            try c.must("systemctl stop \(unit)")
            #expect(Date().timeIntervalSince(started) < 10, "\(unit) took \(Date().timeIntervalSince(started)) s to stop")
            #expect(try c.property(unit, "Result") == "success")
            #expect(try c.property(unit, "ExecMainStatus") == "0")
            let journal = try c.must("journalctl -u \(unit) -o cat")
            #expect(!journal.contains("timed out. Killing"), "\(unit):\n\(journal)")
        }

        // Removing the package disables both services and keeps the data, the secrets and the user.
        try c.must("dpkg -r begawi", timeout: 120)
        #expect(try c.sh("test -e /usr/bin/begawi").status != 0)
        #expect(try c.sh("ls /etc/systemd/system/multi-user.target.wants/ | grep -q begawi").status != 0)
        #expect(try c.sh("""
            test -f /var/lib/begawi/site.sqlite && test -f /var/lib/begawi-hub/hub.sqlite \
                && test -f /etc/begawi/credentials/hub.key && id begawi
            """).status == 0)
    }

    /// The Swift toolchain's folder (from `swift` in PATH), unless it is a system folder that
    /// cannot be hidden.
    static func toolchainRoot() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":") {
            let swift = "\(folder)/swift"
            guard FileManager.default.isExecutableFile(atPath: swift) else { continue }
            let real = URL(fileURLWithPath: swift).resolvingSymlinksInPath()
            let root = real.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
            return ["/", "/usr", "/usr/local"].contains(root) ? nil : root
        }
        return FileManager.default.fileExists(atPath: "/opt/swift") ? "/opt/swift" : nil
    }
}
