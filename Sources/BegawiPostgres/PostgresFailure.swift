import BegawiCore
import PostgresNIO

/// postgres-nio's errors as `BegawiError`s that say what to do.
///
/// The server's own message is left out: it can quote the values of a row ("invalid input syntax
/// for type …: "…"", a key in a constraint's detail), and those may be personal. The SQLSTATE,
/// the statement's text (its values are bound, never in the text) and the names of the table,
/// column and constraint are enough to find the cause.
enum PostgresFailure {
    /// The error of `doing` (a statement's text, or what the link was doing) as a `BegawiError`.
    static func error(_ error: any Error, doing: String) -> BegawiError {
        if let error = error as? BegawiError { return error }
        guard let error = error as? PSQLError else {
            return BegawiError(.storage, "PostgreSQL failed: see the cause", cause: "\(type(of: error)) while \(doing)")
        }
        if let info = error.serverInfo, let state = info[.sqlState] {
            return server(state: state, info: info, doing: doing)
        }
        switch error.code {
        case .connectionError:
            return BegawiError(.network, "cannot reach the PostgreSQL server: check its host and port in database, and that it runs",
                               cause: "\(error.underlying.map { String(describing: $0) } ?? "no cause") while \(doing)")
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return BegawiError(.network, "the PostgreSQL session ended (the server restarted, or ended it after a timeout): try again",
                               cause: "\(error.code) while \(doing)")
        case .sslUnsupported:
            return BegawiError(.configuration, "the PostgreSQL server does not offer TLS, which sslmode requires: enable ssl on the server, or lower sslmode",
                               cause: "\(error.code) while \(doing)")
        case .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError:
            return BegawiError(.configuration, "PostgreSQL asks for a way of logging in this role cannot give: set the role's password in database, or allow it in pg_hba.conf",
                               cause: "\(error.code) while \(doing)")
        default:
            return BegawiError(.storage, "PostgreSQL failed: see the cause", cause: "\(error.code) while \(doing)")
        }
    }

    /// A session that has ended (the server ended it, or it gave no answer in time) cannot run `doing`.
    static func ended(doing: String) -> BegawiError {
        BegawiError(.network, "the PostgreSQL session ended (the server restarted, or ended it after a timeout): try again",
                    cause: "session closed while \(doing)")
    }

    /// A COMMIT answered ROLLBACK: a statement of the transaction had failed.
    static func rolledBack() -> BegawiError {
        BegawiError(.storage, "the transaction was rolled back: one of its statements had failed")
    }

    private static func server(state: String, info: PSQLError.ServerInfo, doing: String) -> BegawiError {
        let names = [("table", info[.tableName]), ("column", info[.columnName]), ("constraint", info[.constraintName])]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        let cause = (["SQLSTATE \(state)"] + names).joined(separator: ", ") + " while \(doing)"
        switch state {
        case "57014":
            return BegawiError(.storage, "a statement ran longer than the statement timeout and was cancelled", cause: cause)
        case "25P03":
            return BegawiError(.storage, "the session sat idle inside a transaction past the timeout and the server ended it", cause: cause)
        case "28P01", "28000":
            return BegawiError(.configuration, "PostgreSQL refused the role or its password: check the role in `database`, the password in the file `database_password_file` names (one line, the password alone), and the server's pg_hba.conf", cause: cause)
        case "3D000":
            return BegawiError(.configuration, "the database named in database does not exist: create it (createdb) or fix the name", cause: cause)
        case "40001", "40P01":
            return BegawiError(.storage, "PostgreSQL ended the transaction to resolve a conflict with another one: try again", cause: cause)
        case let state where state.hasPrefix("08") || state.hasPrefix("57P"):
            return BegawiError(.network, "the PostgreSQL server is unreachable or shutting down: try again", cause: cause)
        case let state where state.hasPrefix("53"):
            return BegawiError(.storage, "the PostgreSQL server is out of a resource (connections, memory or disk): see its log", cause: cause)
        default:
            return BegawiError(.storage, "PostgreSQL refused a statement: see the cause", cause: cause)
        }
    }
}
