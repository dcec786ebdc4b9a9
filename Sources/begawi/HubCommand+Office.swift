import BegawiHub
import BegawiOffice
import Logging

extension HubCommand {
    /// The office's dashboard over the store, when the store has the office's reads (SQLite); on
    /// another store (PostgreSQL) nothing is mounted and the start says so once.
    static func officeRoutes(_ store: any ServedHubStore, lanes: Blocking, retention: HubRetention, logger: Logger) throws -> [any HubRouteGroup] {
        guard let office = store as? any HubStore & OfficeStore else {
            logger.notice("the office's dashboard (/office/) is not served: it is not built on the PostgreSQL store yet; run the hub on SQLite to use it")
            return []
        }
        return [try OfficeRoutes(store: office, lanes: lanes, retention: retention, logger: logger)]
    }
}
