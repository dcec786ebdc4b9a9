public import BegawiCore
public import BegawiHub

extension PostgresHubStore {
    /// A push's refusals kept for a site whose answer was lost: not kept yet on PostgreSQL, whose
    /// push is under construction (docs/postgresql.md lists it with push).
    public func unsettledRefusals(site: SiteRecord, replica: String, schemaVersion: Int?) throws -> PushOutcome? { nil }
}
