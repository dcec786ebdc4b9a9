import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB

/// The kinds of forgery.
enum Forgery: String, CaseIterable, Hashable {
    case updateOthersRow, deleteOthersRow, insertNamingOtherOwner, enrollInOthersProgram, changeOwner, setOfficeOnly
    case foreignStampOwnRow, foreignStampOthersRow, foreignVectorEntry, wrongKindOfTable, invalidNIK, keyNotFromNIK, secondRegistration
}

/// One forged row and the refusal reasons that fit it.
struct ForgedRow {
    var table: String
    var key: String
    var state: RowState
    var forgery: Forgery
    var expected: Set<String>
}
