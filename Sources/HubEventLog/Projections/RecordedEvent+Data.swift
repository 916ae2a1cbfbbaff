package import HubDomain

/// Reading an event's data in a projection, through the event catalogue (upcast when older): data
/// that does not fit its type is a ``ProjectionError`` naming the event, never a crash.
extension RecordedEvent {
    /// The data as the catalogue's payload of type `E`.
    package func payload<E: NamedDomainEvent>(_ type: E.Type) throws -> E {
        // Applied inline: the producer's own payload.
        if let typed = typedPayload as? E { return typed }
        do {
            let value = try EventCatalogue.decode(E.self, schemaVersion: schemaVersion, from: data)
            return scoped(value) as? E ?? value
        } catch {
            throw ProjectionError.malformed(position: position, type: self.type, reason: "\(error)")
        }
    }

    /// The catalogue's payload of this event, with what its data leaves to its stream filled in
    /// (``StreamScopedEvent``).
    package func decodedPayload() throws -> any DomainEvent {
        scoped(try EventCatalogue.decode(type: type, schemaVersion: schemaVersion, data: data))
    }

    private func scoped(_ value: any DomainEvent) -> any DomainEvent {
        guard var scoped = value as? any StreamScopedEvent else { return value }
        scoped.scope(to: stream)
        return scoped
    }

    /// The data as whatever the catalogue makes of this event's type (configuration events have
    /// dynamic names).
    package func payload() throws -> any DomainEvent {
        if let typedPayload { return typedPayload }
        do {
            return try decodedPayload()
        } catch {
            throw ProjectionError.malformed(position: position, type: type, reason: "\(error)")
        }
    }

    package func missing(_ what: String) -> ProjectionError {
        .malformed(position: position, type: type, reason: "no \(what)")
    }
}

/// Events that stand for more than themselves (``ImpliesEvents``): a routed `message.received` is
/// also its `message.routed`.
extension RecordedEvent {
    /// The types whose events may imply others: only these are decoded to find out.
    private static let implyingTypes: Set<String> = [MessageReceived.type]

    /// This event (its payload decoded when it may imply others), then each event it implies, at its
    /// own place in the log: what projections and the audit trail apply, in this order. An implied event
    /// has its payload and no `data` of its own (it is not in the log as itself): its readers take
    /// ``payload(_:)``, and encoding it for none of them cost the writer a JSON text per message.
    package func withImpliedEvents() throws -> [RecordedEvent] {
        guard Self.implyingTypes.contains(type) else { return [self] }
        var event = self
        if event.typedPayload == nil { event.typedPayload = try payload() }
        guard let implying = event.typedPayload as? any ImpliesEvents else { return [event] }
        var events = [event]
        for implied in implying.impliedEvents {
            var next = event
            next.type = implied.eventType
            next.schemaVersion = implied.eventSchemaVersion
            next.data = ""
            next.typedPayload = implied
            events.append(next)
        }
        return events
    }
}
