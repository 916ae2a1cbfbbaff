import HubDomain
import Testing

@testable import HubDelivery

/// The `accessTokenPath` subset of JSONPath (spec §3.1 [P]).
struct AccessTokenPathTests {
    let response: JSONValue = .object([
        "access_token": "top", "data": .object(["accessToken": "nested", "list": .array([.object(["t": "first"])])]),
        "odd key": "quoted", "number": 42, "empty": "",
    ])

    @Test(arguments: [
        ("$.access_token", "top"), ("access_token", "top"), ("$.data.accessToken", "nested"),
        ("data.accessToken", "nested"), ("$['odd key']", "quoted"), ("$.data.list[0].t", "first"),
        ("$[\"data\"].accessToken", "nested"), ("$.number", "42"),
    ])
    func findsTheToken(_ path: String, _ token: String) {
        #expect(AccessTokenPath.extract(path, from: response) == token)
    }

    @Test(arguments: ["$.missing", "$.data.list[3].t", "$.empty", "$..access_token", "$.data[", "", "$"])
    func findsNothingWhereThereIsNoToken(_ path: String) {
        #expect(AccessTokenPath.extract(path, from: response) == nil)
    }
}
