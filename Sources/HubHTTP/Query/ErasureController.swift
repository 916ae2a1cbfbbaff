import HubCommands
import HubDomain
import Hummingbird

/// `POST /v1/erasures` (scope `hubstore.admin`): erases a customer, found by a contact address
/// (`{"contact": "…", "account"?: "<account id>"}`) or by id (`{"customer": "…"}`). Answers 201 with what
/// was erased (ids and counts, nothing of the content); 404 when no customer matches.
struct ErasureController: Sendable {
    let erasure: CustomerErasure

    var endpoints: RouteCollection<HubRequestContext> {
        let router = RouteCollection(context: HubRequestContext.self)
        router.group("/v1").add(middleware: RequireScope(anyOf: .admin)).post("/erasures") { request, context in
            try await erase(request, context)
        }
        return router
    }

    private func erase(_ request: Request, _ context: HubRequestContext) async throws -> Response {
        try ConfigurationController.refuseQueryParameters(request, allowed: [])
        try ConfigurationController.requireAcceptsJSON(request)
        let body = try await ConfigurationController.jsonBody(request)
        guard case .object(let fields) = body else { throw Rejection.invalidValue("body", "must be a JSON object") }
        if let unknown = fields.keys.sorted().first(where: { !["contact", "customer", "account"].contains($0) }) {
            throw Rejection.invalidValue(unknown, "is not a field of an erasure (contact, customer, account)")
        }
        func text(_ name: String) throws -> String? {
            guard let value = fields[name], value != .null else { return nil }
            guard let string = value.stringValue, !string.isEmpty, string.utf8.count <= 1024 else {
                throw Rejection.invalidValue(name, "must be a non-empty string of at most 1024 bytes")
            }
            return string
        }
        let subject: CustomerErasure.Subject
        switch (try text("contact"), try text("customer")) {
        case (let contact?, nil): subject = .contact(contact)
        case (nil, let customer?): subject = .customer(customer)
        case (nil, nil): throw Rejection.missingAttribute("contact")
        case (_?, _?): throw Rejection.invalidValue("customer", "give either contact or customer, not both")
        }
        let result = try await erasure.erase(
            subject,
            account: try text("account"),
            caller: ConfigurationController.caller(request, context)
        )
        return Response(
            status: .created,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: result.json.text))
        )
    }
}
