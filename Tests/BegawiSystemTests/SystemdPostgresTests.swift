import BegawiTestSupport
import Foundation
import Testing

/// The Debian package's hub under a real systemd 252 with its store on PostgreSQL, set up by
/// docs/operations.md's steps ("A hub on PostgreSQL"): a role with a password that the server checks
/// (scram-sha-256), a database with the C collation, the password given to the unit as a systemd
/// credential by a drop-in, `hub init` and `add-site` run as the unit would; then the office's site
/// syncs through it. The server is a throwaway cluster inside the container (`Tests/Tools/pgcluster`,
/// copied in), reached over the container's loopback.
@Suite(.enabled("needs root, overlayfs, ../shared/lab/systemd-container and PostgreSQL's initdb") { SystemdContainer.bootableWithPostgres() },
       .blocking)
struct SystemdPostgresTests {
    /// The role's password: made up, never a real secret, and searched for in the journal.
    static let password = "sandi-uji-\(UUID().uuidString.prefix(8))"

    @Test func theHubRunsOnPostgreSQLUnderSystemdWithItsPasswordAsACredential() throws {
        let c = try SystemdContainer()
        let (made, makeOutput) = try SystemdUnitTests().run(
            "/usr/bin/make", ["-s", "deb", "BIN=\(Cluster.binary)", "DEB_DIR=\(c.share)/deb", "DEB_COMPRESS=none"], in: Repository.root)
        try #require(made == 0, "make deb:\n\(makeOutput)")
        let package = try #require(makeOutput.split(separator: "\n").last.map(String.init), "make deb printed no path")
        try FileManager.default.copyItem(atPath: Repository.root.appendingPathComponent("Tests/Tools/pgcluster").path, toPath: "\(c.share)/pgcluster")
        try c.must("dpkg -i /mnt/share/deb/\((package as NSString).lastPathComponent)", timeout: 120)

        // The server, and what an administrator makes on it: the role with a password, the
        // database with the C collation, and password authentication for the role on loopback.
        let url = try c.must("/mnt/share/pgcluster start /var/lib/pgtest", timeout: 120)
        let port = try #require(url.firstMatch(of: /127\.0\.0\.1:(\d+)\//).map { String($0.1) }, "pgcluster printed \(url)")
        try c.must("""
            set -e
            psql -X -q -v ON_ERROR_STOP=1 -d '\(url)' -c "CREATE ROLE begawi LOGIN PASSWORD '\(Self.password)'"
            psql -X -q -v ON_ERROR_STOP=1 -d '\(url)' -c "CREATE DATABASE begawi_hub OWNER begawi LOCALE 'C' TEMPLATE template0"
            sed -i '1i host all begawi 127.0.0.1/32 scram-sha-256' /var/lib/pgtest/data/pg_hba.conf
            psql -X -q -v ON_ERROR_STOP=1 -d '\(url)' -c 'SELECT pg_reload_conf()' >/dev/null
            ! PGPASSWORD=wrong psql -X -q -h 127.0.0.1 -p \(port) -U begawi -d begawi_hub -c 'SELECT 1' 2>/dev/null
            """)

        // docs/operations.md's steps: the password as a credential, the URL without it.
        let credential = "-p LoadCredential=hub.pgpassword:/etc/begawi/credentials/hub.pgpassword"
        try c.must("""
            set -e
            cp /usr/share/begawi/hub.example.toml /etc/begawi/hub.toml
            cp /usr/share/begawi/handak-begawi.json /etc/begawi/schema.json
            sed -i 's|^listen = .*|listen = "127.0.0.1:8443"|; s|^tls_key = .*|tls_key = "credential:hub.key"|' /etc/begawi/hub.toml
            sed -i 's|^database = .*|database = "postgresql://begawi@127.0.0.1:\(port)/begawi_hub"\\ndatabase_password_file = "credential:hub.pgpassword"|' /etc/begawi/hub.toml
            begawi hub make-certificates --out /root/begawi-ca --name localhost --name 127.0.0.1
            install -m 0644 /root/begawi-ca/hub.crt /root/begawi-ca/ca.crt /etc/begawi/
            install -m 0600 /root/begawi-ca/hub.key /etc/begawi/credentials/hub.key
            printf '%s\\n' '\(Self.password)' > /root/pgpassword
            install -m 0600 /root/pgpassword /etc/begawi/credentials/hub.pgpassword
            rm /root/pgpassword
            mkdir -p /etc/systemd/system/begawi-hub.service.d
            printf '[Service]\\nLoadCredential=hub.pgpassword:/etc/begawi/credentials/hub.pgpassword\\n' > /etc/systemd/system/begawi-hub.service.d/postgresql.conf
            systemctl daemon-reload
            systemd-run --quiet --wait --pipe -p User=begawi \(credential) begawi hub init
            systemd-run --quiet --wait --pipe -p User=begawi \(credential) begawi hub add-site --id disnaker --kind office --name "Disnaker Kota Bontang" --credential-out /tmp/disnaker.credential
            systemctl enable --now begawi-hub
            """, timeout: 120)
        #expect(try c.property("begawi-hub", "ActiveState") == "active", "\(c.show("journalctl -u begawi-hub -n 30 --no-pager"))")
        #expect(try c.property("begawi-hub", "StatusText").contains("serving sites on port 8443"))

        // The office's site syncs through it; its write reaches the hub's database.
        try c.must("""
            set -e
            cp /usr/share/begawi/site.example.toml /etc/begawi/site.toml
            sed -i 's|^site_id = .*|site_id = "disnaker"|; s|^hub_url = .*|hub_url = "https://127.0.0.1:8443"|; s|^credential_file = .*|credential_file = "credential:site.credential"|' /etc/begawi/site.toml
            install -m 0600 /tmp/disnaker.credential /etc/begawi/credentials/site.credential
            systemd-run --quiet --wait --pipe -p User=begawi -p LoadCredential=site.credential:/etc/begawi/credentials/site.credential begawi site init
            systemctl enable --now begawi-site
            sqlite3 -cmd '.timeout 5000' /var/lib/begawi/site.sqlite "INSERT INTO partners(id, kind, name) VALUES ('lpk-pg', 'lpk', 'LPK Pg')"
            """, timeout: 120)
        let holds = "test \"$(psql -X -At -d 'postgresql://postgres@127.0.0.1:\(port)/begawi_hub' -c \"SELECT count(*) FROM partners WHERE id = 'lpk-pg'\")\" = 1"
        #expect(try c.waitFor(holds, seconds: 30),
                "the row did not reach the hub; site: \(c.show("journalctl -u begawi-site -n 30 --no-pager")); hub: \(c.show("journalctl -u begawi-hub -n 30 --no-pager"))")

        // A wrong password: the hub does not start, says why, and never shows either password.
        try c.must("printf 'salah\\n' > /etc/begawi/credentials/hub.pgpassword && systemctl restart begawi-hub || true")
        #expect(try c.waitFor("test \"$(systemctl is-active begawi-hub)\" != active", seconds: 30))
        let journal = try c.must("journalctl -u begawi-hub -o cat --no-pager")
        #expect(!journal.contains(Self.password) && !journal.contains("salah"), "the journal shows a password")
        #expect(journal.contains("postgresql://begawi@127.0.0.1:\(port)/begawi_hub"), "the journal does not name the database:\n\(journal.suffix(2000))")
        #expect(journal.contains("PostgreSQL refused the role or its password"), "the journal does not say why:\n\(journal.suffix(2000))")
        try c.sh("/mnt/share/pgcluster stop /var/lib/pgtest", timeout: 60)
    }
}

extension SystemdContainer {
    /// Whether a container can boot and PostgreSQL's server programs are installed; prints why not.
    static func bootableWithPostgres() -> Bool {
        guard bootable() else { return false }
        let installed = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .contains { FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb") }
        if !installed { print("SystemdPostgresTests skipped: no /usr/lib/postgresql/*/bin/initdb (make test-deps installs Debian's postgresql)") }
        return installed
    }
}
