// LivePerson connector app installations (stream `appInstallation/<id>`).

/// `appInstallation.created`: a connector app of an account, with its client secret sealed under the
/// installation's own key (record `appInstallation/<id>`): webhooks are signed with it.
package struct AppInstallationCreated: NamedDomainEvent {
    package static var type: String { "appInstallation.created" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    /// The LivePerson account id (the path `{accountId}`): the `address` of a HubStore account.
    package var account: String
    /// The validated App Install body (``AppInstallation/validate(_:)``), without the secret.
    package var installation: JSONValue
    /// The client secret, sealed.
    package var secret: String

    package init(id: String, account: String, installation: JSONValue, secret: String) {
        self.id = id
        self.account = account
        self.installation = installation
        self.secret = secret
    }
}

/// `appInstallation.updated`: the installation's body replaced (its credentials stay).
package struct AppInstallationUpdated: NamedDomainEvent {
    package static var type: String { "appInstallation.updated" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    package var account: String
    package var installation: JSONValue

    package init(id: String, account: String, installation: JSONValue) {
        self.id = id
        self.account = account
        self.installation = installation
    }
}

/// `appInstallation.deleted`: its tokens stop working and its webhooks are no longer sent.
package struct AppInstallationDeleted: NamedDomainEvent {
    package static var type: String { "appInstallation.deleted" }
    package static var schemaVersion: Int { 1 }

    package var id: String
    package var account: String

    package init(id: String, account: String) {
        self.id = id
        self.account = account
    }
}
