// A delivery written by reference (``MessageRouted/Delivery/byReference``): how the writer decides to
// write one, and how readers give it back its recipient from the configuration generation's
// ``RoutingConfigured/recipients``.

extension MessageRouted.Delivery {
    /// The delivery `id` to `recipient`.
    package init(id: String, to recipient: Recipient) {
        let participant =
            recipient.participant == nil && recipient.participantName == nil
            ? nil : Participant(id: recipient.participant, name: recipient.participantName)
        self.init(id: id, application: recipient.application, type: recipient.type, participant: participant)
    }

    /// Whether the application and participant are yet to come from the generation's recipients:
    /// written by reference and read back (the writer's own payload has them).
    package var isUnresolved: Bool { byReference && application.isEmpty }

    /// The delivery with its recipient's application and participant, from the recipients of its
    /// configuration generation when it was written by reference.
    ///
    /// - Throws: ``RecipientReferenceError`` when `recipients` has no recipient of its type, or several.
    package func resolved(by recipients: [MessageRouted.Delivery]) throws -> MessageRouted.Delivery {
        guard isUnresolved else { return self }
        let candidates = recipients.filter { $0.type == type }
        guard candidates.count == 1, let recipient = candidates.first else {
            throw RecipientReferenceError(type: type, candidates: candidates.count)
        }
        var delivery = self
        delivery.application = recipient.application
        delivery.participant = recipient.participant
        return delivery
    }

    /// The delivery as written: by reference when `recipients` has exactly one recipient of its
    /// type, the same one (application and participant).
    package func referencing(_ recipients: [MessageRouted.Delivery]) -> MessageRouted.Delivery {
        let candidates = recipients.filter { $0.type == type }
        guard candidates.count == 1, let recipient = candidates.first,
            recipient.application == application, recipient.participant == participant
        else { return self }
        var delivery = self
        delivery.byReference = true
        return delivery
    }
}

/// A delivery written by reference whose configuration generation does not name exactly one recipient
/// of its type.
package struct RecipientReferenceError: Error, CustomStringConvertible {
    package var type: String
    package var candidates: Int
    package var description: String {
        "a delivery to the \(type) written by reference, and its configuration generation has "
            + "\(candidates) recipients of that type"
    }
}
