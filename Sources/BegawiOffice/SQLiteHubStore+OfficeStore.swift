public import BegawiHub

/// The office's reads and re-apply on the hub's SQLite file (`SQLiteHubStore+Report`,
/// `SQLiteHubStore+Conflicts`).
extension SQLiteHubStore: OfficeStore {}
