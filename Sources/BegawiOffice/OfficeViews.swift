/// What the dashboard's templates read, one struct per page (Mustache reads the stored properties
/// by name). No property is optional where a template reads it inside a list: Mustache looks a
/// missing name up in the enclosing values, so a row's absent value could show the page's.
enum OfficeViews {
    /// The navigation of a signed-in page: the sign-out form's token and who is signed in.
    struct Nav {
        let csrf: String
        let site: Shown
    }

    struct SignIn {
        let title = "Masuk"
        let nav: Nav? = nil
        let message: Shown?
    }

    /// A page that only says what went wrong.
    struct Notice {
        let title: String
        let nav: Nav?
        let message: Shown
    }

    struct Overview {
        let title = "Ringkasan"
        let nav: Nav
        let sites: [Site]

        struct Site {
            let id: String
            let name: Shown
            let kind: Shown
            let revoked: Bool
            let expired: Bool
            let stale: Bool
            let contact: String
            let pending: String
            let offset: String
            let version: String
            let schema: String
            let refused: Int
            let conflicts: Int
        }
    }

    struct Enrollments {
        let title = "Pendaftaran"
        let nav: Nav
        let from: String
        let to: String
        let partners: Select
        let programs: Select
        let statuses: Select
        let problem: Shown?
        let report: Report?

        struct Report {
            let query: String
            let columns: [Column]
            let lines: [Line]
            let totals: [Cell]
            let total: Int
            let empty: Bool
        }

        struct Column {
            let label: Shown
        }

        struct Line {
            let partner: String
            let program: String
            let partnerName: Shown
            let programTitle: Shown
            let cells: [Cell]
            let total: Int
        }

        struct Cell {
            let status: String
            let count: Int
        }
    }

    /// A drop-down: the value keeps its characters (it goes back in the filter), the label shows
    /// invisible ones.
    struct Select {
        let name: String
        let choices: [Choice]

        struct Choice {
            let value: String
            let label: Shown
            let selected: Bool
        }

        init(_ name: String, _ choices: [(String, String)], _ selected: String?) {
            self.name = name
            self.choices = choices.map { Choice(value: $0.0, label: Shown($0.1), selected: $0.0 == selected) }
        }
    }

    struct Conflicts {
        let title = "Konflik"
        let nav: Nav
        let csrf: String
        let notice: Shown?
        let rows: [Row]
        let empty: Bool

        struct Row {
            let id: Int64
            let detected: String
            let table: Shown
            let key: Shown
            let column: Shown
            let loser: Shown
            let loserSite: Shown
            let winner: Shown
            let winnerSite: Shown
            /// When it was re-applied (shown when `isReapplied`).
            let reapplied: String
            let isReapplied: Bool
            /// Why it cannot be re-applied (shown when `isBlocked`).
            let blocked: Shown
            let isBlocked: Bool
            /// Whether the re-apply form is shown.
            let open: Bool
        }
    }
}
