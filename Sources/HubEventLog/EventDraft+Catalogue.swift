package import HubDomain

extension EventDraft {
    /// An event of the catalogue (``EventCatalogue``): its type, schema version and data, encoded the
    /// one way every producer encodes events.
    package init(
        _ event: some DomainEvent,
        account: String? = nil,
        actor: String = "system",
        correlationId: String? = nil,
        causationId: String? = nil
    ) throws {
        let encoded = try EventCatalogue.encoded(event)
        self.init(
            type: encoded.type,
            data: encoded.data,
            schemaVersion: encoded.schemaVersion,
            account: account,
            actor: actor,
            correlationId: correlationId,
            causationId: causationId
        )
        typedPayload = event
    }
}
