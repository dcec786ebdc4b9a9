import ArgumentParser
import BegawiCore
import BegawiHub
import BegawiOffice
import BegawiRules
import BegawiReplica
import Foundation
import Logging
import ServiceLifecycle

/// `begawi hub …`: the office's hub.
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub",
        abstract: "Run and administer the hub that every site syncs with.",
        subcommands: [Init.self, AddSite.self, RotateCredential.self, RevokeSite.self, Sites.self, Run.self, Backup.self, Restored.self, MakeCertificates.self,
                      Duplicates.self, TraceParticipant.self, EraseParticipant.self, ReportCommand.self, HubSchemaCommand.self])

    struct Options: ParsableArguments {
        @Option(help: "The hub's configuration file.") var config = "/etc/begawi/hub.toml"
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the hub's database with the schema named in the configuration (a SQLite file, or the tables of an empty PostgreSQL database).")
        @OptionGroup var options: Options

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            _ = try SchemaFile.load(c.schemaPath)
            let text = try HubSchemaCommand.read(c.schemaPath)
            switch try HubDatabase(c) {
            case .sqlite(let path): try SQLiteHubStore.create(at: path, schemaText: text)
            case .postgres(let settings): try HubCommand.createPostgres(settings, schemaText: text, file: c.schemaPath)
            }
            print("created the hub database \(c.databasePath)")
        }
    }

    struct AddSite: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-site",
            abstract: "Register a site and print its credential once (the hub keeps only a hash of it).")
        @OptionGroup var options: Options
        @Option(help: "The site's id: lowercase letters, digits, '.', '_' or '-'.") var id: String
        @Option(help: "lpk, blki, bplk, company or office.") var kind: String
        @Option(help: "The partner's name.") var name: String
        @Option(help: "Write the credential to this new file (mode 0600) instead of printing it.") var credentialOut: String?

        func run() throws {
            let kind = try SiteKind.parse(kind)
            try HubCommand.issue(options: options, credentialOut: credentialOut, what: "added site \(id)") { [id, name] store in
                try store.addSite(id: id, kind: kind, name: name)
            }
        }
    }

    struct RotateCredential: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-credential",
            abstract: "Give a site (active or revoked) a new credential; the old one is refused from the hub's next request on. Prints it once, like add-site.")
        @OptionGroup var options: Options
        @Option(help: "The site's id.") var id: String
        @Option(help: "Write the credential to this new file (mode 0600) instead of printing it.") var credentialOut: String?

        func run() throws {
            try HubCommand.issue(options: options, credentialOut: credentialOut,
                                 what: "gave site \(id) a new credential; the old one is refused from now on") { [id] store in
                try store.rotateCredential(id: id)
            }
        }
    }

    /// Shows a new credential once: in the file made for it, or on standard output.
    /// Makes a credential in the hub's database and hands it over. The file, if named, is created
    /// first (never over an existing one), so that a refused file changes nothing in the database.
    static func issue(options: Options, credentialOut: String?, what: String,
                      _ make: (any HubAdminStore) throws -> SiteCredential) throws {
        let c = try HubConfigFile.load(options.config)
        let database = try HubDatabase(c)
        let file = try credentialOut.map(CredentialFile.create)
        let credential: SiteCredential
        do {
            let store = try database.openAdmin()
            defer { try? store.close() }
            credential = try make(store)
        } catch {
            file?.discard()
            throw error
        }
        try hand(credential, to: file, what: what)
    }

    static func hand(_ credential: SiteCredential, to file: CredentialFile?, what: String) throws {
        guard let file else {
            print(credential.token)
            FileHandle.standardError.write(Data("\(what). The line above is its credential: hand it over securely; it is not shown again.\n".utf8))
            return
        }
        do {
            try file.write(credential.token)
        } catch {
            throw BegawiError(.storage, "\(what), but the credential could not be written: run `begawi hub rotate-credential --id \(credential.siteID) --credential-out NEWFILE`",
                              cause: "\(error)")
        }
        print("\(what); its credential is in \(file.path). Hand it over securely; it is not shown again.")
    }

    struct RevokeSite: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-site", abstract: "Revoke a site's credential; its data stays (rotate-credential gives it a new one).")
        @OptionGroup var options: Options
        @Option(help: "The site's id.") var id: String

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            let store = try HubDatabase(c).openAdmin()
            defer { try? store.close() }
            try store.revokeSite(id: id)
            print("revoked site \(id)")
        }
    }

    struct Sites: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered sites, with each one's daemon and schema version as of its last session.")
        @OptionGroup var options: Options

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            let store = try HubDatabase(c).openAdmin()
            defer { try? store.close() }
            let health = Dictionary(try store.health().map { ($0.site, $0) }, uniquingKeysWith: { a, _ in a })
            // Expired: silent longer than retention_days, or behind the purge horizon; it re-baselines when it returns.
            let expired = Set(try store.expiredSites(now: SystemWallClock().nowMilliseconds(), retention: c.retention))
            print("site\tkind\tstate\tname\tversion\tschema")
            for s in try store.sites() {
                // As of the site's last session; "-" before its first, or when its daemon named none.
                let version = health[s.id]?.daemonVersion ?? "-", schema = health[s.id]?.schemaVersion.map(String.init) ?? "-"
                let state = s.revokedAt != nil ? "revoked" : expired.contains(s.id) ? "expired" : "active"
                print("\(s.id)\t\(s.kind.rawValue)\t\(state)\t\(s.name)\t\(version)\t\(schema)")
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve the sites over HTTPS until SIGTERM.")
        @OptionGroup var options: Options

        func run() async throws {
            ServiceManager.ignoreHangUps()
            MallocArenas.limit()
            let c = try HubConfigFile.loadForDaemon(options.config)
            let logger = Logs.logger("begawi.hub")
            let document = try SchemaFile.document(c.schemaPath)
            let database = try HubDatabase(c)
            if case .sqlite(let path) = database {
                try SQLiteHubStore.requirePublished(at: path, schemaText: try HubSchemaCommand.read(c.schemaPath), file: c.schemaPath)
            }
            let notifier = ServiceManager.notifier
            let boundPort = BoundPort()
            let daemon = try HubDaemon(configuration: c, policy: document.policy, declared: document.schema, logger: logger,
                                       open: { clock in
                                           try database.openServed(c, document: document, clock: clock, logger: logger)
                                       },
                                       routes: { store, lanes in try HubCommand.officeRoutes(store, lanes: lanes, retention: c.retention, logger: logger) },
                                       onReady: { port in
                boundPort.set(port)
                notifier.ready(status: "serving sites on port \(port)")
            })
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: daemon, serviceName: "hub"),
                                                                              .init(service: daemon.housekeeping(), serviceName: "housekeeping")]
            if let publisher = daemon.publisher() { services.append(.init(service: publisher, serviceName: "publisher")) }
            if let interval = notifier.pingInterval {
                services.append(.init(service: daemon.watchdog(every: interval / 2) { notifier.alive() }, serviceName: "watchdog"))
            }
            let path = options.config, server = daemon.server
            try await ServiceManager.runGroup(services, reload: {
                let taken = HubCommand.reload(server: server, path: path, logger: logger)
                return (taken ? "configuration reloaded; " : "configuration not reloaded (see the journal); ") + "serving sites on port \(boundPort.value)"
            }, logger: logger)
        }
    }

    /// Re-reads hub.toml into the running server; a bad file keeps the settings in force. Returns
    /// whether the file was taken.
    static func reload(server: HubServer, path: String, logger: Logger) -> Bool {
        do {
            let restartOnly = try server.settings.reload(try HubConfigFile.loadForDaemon(path))
            if restartOnly.isEmpty {
                logger.notice("configuration reloaded", metadata: ["config": "\(path)"])
            } else {
                logger.warning("configuration reloaded; some changes wait for a restart (systemctl restart begawi-hub)",
                               metadata: ["config": "\(path)", "restart.needed_for": "\(restartOnly.joined(separator: ","))"])
            }
            return true
        } catch {
            logger.error("configuration not reloaded; the hub keeps the one in force", metadata: ["config": "\(path)", "error": "\(error)"])
            return false
        }
    }

    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a consistent copy of the hub's database while it runs. The copy gets a new epoch, so sites re-sync safely if it is ever restored. With --check, write nothing: list the erasures a backup lacks.")
        @OptionGroup var options: Options
        @Argument(help: "The backup file to create (with --check: to check).") var file: String
        @Flag(help: "List the erasures of the erasure log that this backup lacks: the hub erases them again when it starts on it.") var check = false
        @Flag(help: "With --check, also show each erasure's participant key.") var keys = false

        func run() throws {
            let c = try HubConfigFile.load(options.config)
            if c.databaseIsPostgres {
                throw BegawiError(.configuration, "a hub on PostgreSQL is not copied by begawi: copy its database with pg_dump (or the server's base backups and point-in-time recovery), and after restoring a pg_dump into the same cluster run `begawi hub restored` once before the hub serves (docs/postgresql.md, \"Epochs on restore\")")
            }
            let log = ErasureLog(path: c.retention.erasureLog(database: c.databasePath))
            if check { return try HubCommand.checkBackup(file, log: log, keys: keys) }
            let store = try SQLiteHubStore(path: c.databasePath)
            defer { try? store.close() }
            try store.backup(to: file)
            print("wrote \(file); it holds \(try SQLiteHubStore.erasures(inBackup: file).count) erasures. Never restore the erasure log \(log.path) with it: the hub erases again at start what a restored backup lacks")
        }
    }
}

/// Which participant a command is about: a key, or a NIK read from standard input (a NIK on the
/// command line would show in the process list and the shell's history).
struct ParticipantChoice: ParsableArguments {
    @Option(help: "The participant's key (as `hub duplicates` and the audit trail show it).") var key: String?
    @Flag(help: "Read the participant's NIK from standard input instead.") var nikStdin = false

    func resolve(_ store: any ParticipantStore) throws -> String {
        switch (key, nikStdin) {
        case (let key?, false): return key
        case (nil, true):
            let nik = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
            return try store.derivedKey(for: nik)
        default:
            throw BegawiError(.invalidArgument, "name the participant with either --key KEY or --nik-stdin (and the NIK on standard input)")
        }
    }
}

extension HubCommand {
    /// Opens the SQLite hub with the schema file's rules, for `hub report` on SQLite (on PostgreSQL it
    /// opens that store itself; the participant commands use `openParticipantStore`); `what` names
    /// the command in the refusal of a configuration that names PostgreSQL.
    static func openStore(_ options: Options, for what: String) throws -> SQLiteHubStore {
        let c = try HubConfigFile.load(options.config)
        if c.databaseIsPostgres {
            throw BegawiError(.configuration, "`begawi hub \(what)` opened the SQLite store, but `database` names a PostgreSQL database; report this as a bug")
        }
        let document = try SchemaFile.document(c.schemaPath)
        let store = try SQLiteHubStore(path: c.databasePath, policy: document.policy, declared: document.schema,
                                       erasureLog: c.retention.erasureLog(database: c.databasePath))
        if let done = store.erasuresReconciled { HubDaemon.logErasures(done, logger: Logs.logger("begawi.hub")) }
        return store
    }

    static func time(_ ms: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    struct Duplicates: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List participants that are likely one person registered twice under a mistyped NIK (same name and birth date).")
        @OptionGroup var options: Options
        @Option(help: "Most NIK digits that may differ.") var maxDigits = 2

        func run() throws {
            let store = try HubCommand.openParticipantStore(options)
            defer { try? store.close() }
            let found = try store.duplicates(maxDigits: maxDigits)
            if found.isEmpty {
                print("no likely duplicates")
                return
            }
            print("key_a\tkey_b\tsite_a\tsite_b\tnik_digits_differing")
            for d in found { print("\(d.keys[0])\t\(d.keys[1])\t\(d.sites[0])\t\(d.sites[1])\t\(d.differingDigits)") }
        }
    }

    struct TraceParticipant: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "trace-participant",
            abstract: "Show where a participant's data went: every write accepted or refused, and every site given or denied sight of it.")
        @OptionGroup var options: Options
        @OptionGroup var participant: ParticipantChoice

        func run() throws {
            let store = try HubCommand.openParticipantStore(options)
            defer { try? store.close() }
            let entries = try store.trace(key: try participant.resolve(store))
            if entries.isEmpty { print("nothing recorded for this participant") }
            for e in entries {
                print("\(HubCommand.time(e.at))\t\(e.site)\t\(e.table)\t\(e.key)\t\(e.action)\(e.reason.map { " (\($0))" } ?? "")")
            }
        }
    }

    struct EraseParticipant: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase-participant",
            abstract: "Erase a person everywhere (UU 27/2022): their row and linked rows leave the hub now and every site on its next sync round.")
        @OptionGroup var options: Options
        @OptionGroup var participant: ParticipantChoice

        func run() throws {
            let store = try HubCommand.openParticipantStore(options)
            defer { try? store.close() }
            let key = try participant.resolve(store)
            let report: ErasureReport
            do {
                report = try store.erase(key: key)
            } catch let error as BegawiError where error.code == .invalidArgument {
                // The library names the table; the programme's operators know the person as a participant.
                throw BegawiError(.invalidArgument, "no participant with that key at the hub (it may be erased already); `begawi hub trace-participant` shows its history")
            }
            print("erased \(report.rows.count) rows (\(Set(report.rows.map(\.table)).sorted().joined(separator: ", "))); sites told to remove them on their next sync: \(report.sites.isEmpty ? "none" : report.sites.joined(separator: ", "))")
        }
    }
}

/// The port the hub listens on, once bound (for the status line after a reload).
final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port = 0
    func set(_ value: Int) { lock.withLock { port = value } }
    var value: Int { lock.withLock { port } }
}
