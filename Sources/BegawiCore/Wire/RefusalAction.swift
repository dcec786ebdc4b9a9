/// What a site's replica does with a row the hub refused, carried by the refusal's reason so that
/// the replica acts on data and never matches a rule's code.
public enum RefusalAction: Sendable, Hashable {
    /// Record the refusal with this site's values, then make the row what the hub holds (its
    /// restored row, or no row when the site may not see it).
    case evict
    /// As `evict`, but remove every trace of the row here first, the ledgers' copies included:
    /// the office erased it at a person's request.
    case erase
    /// Send the row whole once more after the rest of this site's changes (what it references may
    /// come later in them); refused again for the same reason, it is evicted.
    case requeue
    /// Keep the row here and send it again at each round until it lands (what it references may
    /// still come from another site).
    case keep
}
