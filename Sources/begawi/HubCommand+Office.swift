import BegawiHub
import BegawiOffice
import Logging

extension HubCommand {
    /// The office's dashboard over the store: both stores have the office's reads (`OfficeStore`);
    /// its sessions live where the store keeps them (`OfficeStore.officeSessions`).
    static func officeRoutes(_ store: any ServedHubStore, lanes: Blocking, retention: HubRetention, logger: Logger) throws -> [any HubRouteGroup] {
        guard let office = store as? any HubStore & OfficeStore else {
            logger.notice("the office's dashboard (/office/) is not served: this hub store has no office's reads")
            return []
        }
        return [try OfficeRoutes(store: office, lanes: lanes, retention: retention, logger: logger)]
    }
}
