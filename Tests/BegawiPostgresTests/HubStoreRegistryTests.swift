import BegawiCore
import BegawiHub
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// The site registry and credentials, one test body against each store: a rotation or revocation
/// refuses the old credential at the next check, also when made through another hub process.
@Suite(.blocking) struct HubStoreRegistryTests {
    @Test(arguments: StoreKind.available)
    func rotationReplacesTheCredentialAndMovesItsGeneration(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let store = hub.store
            let first = try store.addSite(id: "kantor", kind: .office, name: "Disnaker")
            #expect(try store.authenticate(token: first.token)?.credentialGeneration == 1)
            #expect(try store.credentialGeneration(site: "kantor") == 1)

            let second = try store.rotateCredential(id: "kantor")
            #expect(second != first)
            #expect(try store.authenticate(token: first.token) == nil)
            #expect(try store.authenticate(token: second.token)?.credentialGeneration == 2)
            #expect(try store.credentialGeneration(site: "kantor") == 2)

            try store.revokeSite(id: "kantor")
            #expect(try store.authenticate(token: second.token) == nil)
            #expect(try store.credentialGeneration(site: "kantor") == nil)

            let third = try store.rotateCredential(id: "kantor")
            #expect(try store.authenticate(token: third.token)?.revokedAt == nil)
            #expect(try store.authenticate(token: second.token) == nil)
            #expect(try store.credentialGeneration(site: "kantor") == 3)
            #expect(try store.credentialGeneration(site: "nobody") == nil)

            #expect(throws: BegawiError.self) { try store.rotateCredential(id: "nobody") }
            let again = #expect(throws: BegawiError.self) { try store.addSite(id: "kantor", kind: .office, name: "Disnaker") }
            #expect(again?.message.contains("begawi hub rotate-credential --id kantor") == true)
        }
    }

    @Test(arguments: StoreKind.available)
    func aTokenIsCheckedWholeAndTheSiteKeptAsAdded(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let store = hub.store
            let before = Int64(SystemWallClock().nowMilliseconds())
            let credential = try store.addSite(id: "lpk-a", kind: .lpk, name: "LPK Andalas")
            let site = try #require(try store.authenticate(token: credential.token))
            #expect(site.id == "lpk-a" && site.kind == .lpk && site.name == "LPK Andalas" && site.revokedAt == nil)
            #expect(site.createdAt >= before && site.createdAt <= Int64(SystemWallClock().nowMilliseconds()))
            #expect(try store.sites() == [site])

            // Another secret for the same site, a token for a site never added, and no token at all.
            let forged = try #require(SiteCredential.parse("bgw1.lpk-a." + String(repeating: "0", count: 64)))
            #expect(try store.authenticate(token: forged.token) == nil)
            #expect(try store.authenticate(token: SiteCredential.generate(for: "lpk-z").token) == nil)
            #expect(try store.authenticate(token: "bgw1.lpk-a") == nil)
            #expect(try store.credentialIsCurrent(site: "lpk-a", secretHash: credential.secretHash))
            #expect(try !store.credentialIsCurrent(site: "lpk-a", secretHash: forged.secretHash))
            #expect(try !store.credentialIsCurrent(site: "lpk-z", secretHash: credential.secretHash))

            try store.revokeSite(id: "lpk-a")
            #expect(try !store.credentialIsCurrent(site: "lpk-a", secretHash: credential.secretHash))
            #expect(try store.sites().first?.revokedAt != nil)
            let twice = #expect(throws: BegawiError.self) { try store.revokeSite(id: "lpk-a") }
            #expect(twice?.message.contains("no active site 'lpk-a'") == true)
        }
    }

    @Test(arguments: StoreKind.available)
    func aSiteNeedsAValidIdAndName(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            for (id, name) in [("hub", "Hub"), ("LPK A", "A"), ("", "A"), ("lpk-a", " "), ("lpk-a", String(repeating: "x", count: 201))] {
                let error = #expect(throws: BegawiError.self) { try hub.store.addSite(id: id, kind: .lpk, name: name) }
                #expect(error?.code == .invalidArgument)
            }
            #expect(try hub.store.sites().isEmpty)
        }
    }

    /// Two hub processes on one database: what one writes, the other checks at its next request.
    @Test(arguments: StoreKind.available)
    func anotherProcessSeesACredentialRevokedOrReplaced(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let other = try hub.another()
            let credential = try hub.store.addSite(id: "lpk-a", kind: .lpk, name: "A")
            #expect(try other.authenticate(token: credential.token)?.id == "lpk-a")

            try hub.store.revokeSite(id: "lpk-a")
            #expect(try other.authenticate(token: credential.token) == nil)
            #expect(try !other.credentialIsCurrent(site: "lpk-a", secretHash: credential.secretHash))

            let rotated = try other.rotateCredential(id: "lpk-a")
            #expect(try hub.store.authenticate(token: rotated.token)?.credentialGeneration == 2)
            #expect(try hub.store.authenticate(token: credential.token) == nil)
            #expect(try hub.store.credentialIsCurrent(site: "lpk-a", secretHash: rotated.secretHash))
            let taken = #expect(throws: BegawiError.self) { try other.addSite(id: "lpk-a", kind: .lpk, name: "A") }
            #expect(taken?.code == .invalidArgument)
        }
    }
}
