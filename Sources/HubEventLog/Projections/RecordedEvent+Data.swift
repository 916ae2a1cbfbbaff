package import HubDomain

/// Reading an event's data in a projection, through the event catalogue (upcast when older): data
/// that does not fit its type is a ``ProjectionError`` naming the event, never a crash.
extension RecordedEvent {
    /// The data as the catalogue's payload of type `E`.
    package func payload<E: NamedDomainEvent>(_ type: E.Type) throws -> E {
        // Applied inline: the producer's own payload.
        if let typed = typedPayload as? E { return typed }
        do {
            return try EventCatalogue.decode(E.self, schemaVersion: schemaVersion, from: data)
        } catch {
            throw ProjectionError.malformed(position: position, type: self.type, reason: "\(error)")
        }
    }

    /// The data as whatever the catalogue makes of this event's type (configuration events have
    /// dynamic names).
    package func payload() throws -> any DomainEvent {
        if let typedPayload { return typedPayload }
        do {
            return try EventCatalogue.decode(type: type, schemaVersion: schemaVersion, data: data)
        } catch {
            throw ProjectionError.malformed(position: position, type: type, reason: "\(error)")
        }
    }

    package func missing(_ what: String) -> ProjectionError {
        .malformed(position: position, type: type, reason: "no \(what)")
    }
}
