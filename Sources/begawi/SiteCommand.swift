import ArgumentParser
import BegawiCore
import BegawiReplica
import BegawiRules
import BegawiSite
import Foundation
import Logging
import ServiceLifecycle

/// `begawi site …`: the daemon beside a partner's replica.
struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Run the site daemon that keeps this partner's replica in step with the hub.",
        subcommands: [Init.self, Run.self, Sync.self, Status.self, ClearRefusals.self, ParticipantKey.self])

    struct Options: ParsableArguments {
        @Option(help: "The site's configuration file.") var config = "/etc/begawi/site.toml"
    }

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the site's replica with the hub's current schema (checked against the site's schema file, if it has one).")
        @OptionGroup var options: Options

        func run() async throws {
            let (siteID, c) = try SiteConfigFile.load(options.config)
            let document = try await SiteSchema.fetch(c)
            let replica = try Replica.create(at: c.replicaPath, siteID: siteID, schema: document.schema)
                .migrate(to: document.schema, version: document.version)
            try replica.close()
            // The staff's applications (group begawi) write the replica too. SQLite gives new -wal
            // and -shm files the replica's mode, and GRDB keeps them after closing: all three must
            // be group-writable, or the group cannot even read once the daemon has opened it.
            for file in [c.replicaPath, c.replicaPath + "-wal", c.replicaPath + "-shm"] {
                guard chmod(file, 0o660) == 0 || (errno == ENOENT && file != c.replicaPath) else {
                    throw BegawiError(.storage, "created \(c.replicaPath), but could not make \(file) readable and writable by its group; run `chmod 0660` on it",
                                      cause: String(cString: strerror(errno)))
                }
            }
            print("created \(c.replicaPath) for site \(siteID) (replica \(replica.replicaID))")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sync continuously until SIGTERM (the systemd service).")
        @OptionGroup var options: Options

        func run() async throws {
            ServiceManager.ignoreHangUps()
            MallocArenas.limit()
            let (siteID, c) = try SiteConfigFile.loadWithPolicy(options.config)
            let logger = Logs.logger("begawi.site")
            let metrics = SiteMetrics(now: Date().timeIntervalSince1970)
            let reloads = SiteReloads(path: options.config, siteID: siteID, running: c, logger: logger, metrics: metrics)
            let notifier = ServiceManager.notifier
            let daemon = SiteDaemon(configuration: c, transport: try SiteCommand.transport(c), logger: logger, metrics: metrics,
                                    hooks: .init(onAlive: { notifier.alive() }, onStatus: { notifier.status($0) }, onReady: { notifier.ready() },
                                                 onIdle: { ResidentMemory.shared.trimIfDue() }, aliveInterval: notifier.pingInterval.map { $0 / 2 }),
                                    reload: { reloads.take() })
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: daemon, serviceName: "site")]
            if let host = c.metricsHost, let port = c.metricsPort {
                services.append(MetricsListener.site(host: host, port: port, siteID: siteID, metrics: metrics, logger: logger))
            }
            try await ServiceManager.runGroup(services, reload: { reloads.prepare() }, logger: logger)
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one full sync round and exit: status 0 only when every local change is acknowledged and the pull is caught up.",
            discussion: """
                Exit status: 0 everything is synced; 1 the round failed (the message says why); 2 local changes \
                arrived during the round (run sync again); 3 rows are held back by this site's checks and are \
                not synced until fixed (`begawi site status` lists them).
                """)
        @OptionGroup var options: Options

        func run() async throws {
            // A first sync adopts a snapshot on several threads: the same cap as the daemon keeps its peak alike.
            MallocArenas.limit()
            let (_, c) = try SiteConfigFile.loadWithPolicy(options.config)
            let logger = Logs.logger("begawi.site")
            let (report, held) = try await SiteDaemon(configuration: c, transport: try SiteCommand.transport(c), logger: logger).syncOnce()
            print("sent \(report.sent) rows in \(report.batches) batches (conflicts at the hub: \(report.conflictsAtHub)); received \(report.received) rows in \(report.pages) pages (conflicts here: \(report.conflictsHere)); hub epoch \(report.hubReplicaID)")
            if report.refused + report.heldBack + report.evicted > 0 {
                print("refused by the hub: \(report.refused); held back by this site's checks: \(report.heldBack); removed (no longer visible to this site): \(report.evicted). `begawi site status` lists refusals")
            }
            if !report.caughtUp {
                print("local changes arrived during the round; run sync again")
                throw ExitCode(2)
            }
            if held > 0 {
                print("\(held) rows are held back by this site's checks and not synced; `begawi site status` says how to fix each")
                throw ExitCode(3)
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show pending changes, the last success and error, the hub's epoch and the clock offset.")
        @OptionGroup var options: Options
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let (_, c) = try SiteConfigFile.load(options.config)
            var status = SiteStatus.load(from: c.statusPath)
            let replica = try Replica.open(at: c.replicaPath)
            defer { try? replica.close() }
            status.pendingChanges = try replica.pendingChanges(afterSeq: status.acknowledged?.seq ?? 0, for: status.hubReplicaID)
            let refusals = try replica.refusals(limit: 20)
            status.refusals = try replica.refusalCount()
            status.heldBack = try SiteChecks.heldBackCount(replica)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
                return
            }
            func time(_ ms: UInt64?) -> String {
                guard let ms else { return "never" }
                return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
            }
            print("pending changes: \(status.pendingChanges ?? 0)")
            print("held back:       \(status.heldBack ?? 0)\((status.heldBack ?? 0) > 0 ? " (not synced until fixed; see their refusals below)" : "")")
            print("last success:    \(time(status.lastSuccessAt))")
            print("last error:      \(status.lastError.map { "\(time(status.lastErrorAt)): \($0)" } ?? "none")")
            print("hub epoch:       \(status.hubReplicaID ?? "unknown")")
            print("clock offset:    \(status.clockOffsetMilliseconds.map { "\($0) ms" } ?? "unknown")")
            print("refused changes: \(status.refusals ?? 0)\(refusals.isEmpty ? "" : " (newest first; their values stay in this replica's _begawi_refusals table)")")
            for r in refusals {
                print("  \(time(r.at))  \(r.table) \(r.key)  \(r.reason): \(r.message)")
            }
        }
    }

    struct ClearRefusals: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear-refusals",
            abstract: "Remove handled refusals (and the values they kept) from the refusal ledger. Rows this site still holds back stay listed.")
        @OptionGroup var options: Options
        @Option(help: "Only refusals older than this many days.") var olderThanDays: Int?

        func run() throws {
            if let days = olderThanDays, !(0...36_600).contains(days) {
                throw BegawiError(.invalidArgument, "--older-than-days must be 0 to 36600 (got \(days))")
            }
            let (_, c) = try SiteConfigFile.load(options.config)
            let replica = try Replica.open(at: c.replicaPath)
            defer { try? replica.close() }
            let before = olderThanDays.map { UInt64(clamping: Int64(Date().timeIntervalSince1970 * 1000) - Int64($0) * 86_400_000) }
            let removed = try replica.clearRefusals(before: before, keeping: SiteChecks.localReasons)
            print("removed \(removed) refusals; \(try replica.refusalCount()) remain")
        }
    }

    struct ParticipantKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "participant-key",
            abstract: "Read a NIK from standard input (never from the command line, which others can see) and print the participant key derived from it.")
        @OptionGroup var options: Options

        func run() throws {
            let (_, c) = try SiteConfigFile.load(options.config)
            guard let policy = try SchemaFile.policy(c.schemaPath),
                  let rule = policy.tables.values.first(where: { $0.derivedKey != nil }), let derived = rule.derivedKey else {
                throw BegawiError(.configuration, "the schema file \(c.schemaPath) derives no key from a NIK")
            }
            let nik = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
            if let problem = NIK.problem(nik) { throw BegawiError(.invalidArgument, problem) }
            print(NIK.key(for: nik, salt: derived.salt))
        }
    }
}

extension SiteCommand {
    /// The transport to the hub: its credential, CA and timeouts. Transfers that move bytes feed the watchdog.
    static func transport(_ c: SiteConfiguration) throws -> CurlTransport {
        guard let credential = FileManager.default.contents(atPath: try ConfigFile.secret(c.credentialFile, key: "credential_file"))
            .map({ String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }), !credential.isEmpty else {
            throw BegawiError(.configuration, "cannot read the site's credential from \(c.credentialFile); check credential_file in site.toml")
        }
        let notifier = ServiceManager.notifier
        return try CurlTransport(baseURL: c.hubURL, caFile: c.caFile, credential: credential,
                                 options: .init(connectTimeoutMs: c.connectTimeoutMilliseconds, lowSpeedTimeSeconds: c.stallSeconds,
                                                keepAliveIdleSeconds: c.keepAliveIdleSeconds, userAgent: DaemonVersion.current.userAgent, onActivity: { notifier.alive() }))
    }
}
