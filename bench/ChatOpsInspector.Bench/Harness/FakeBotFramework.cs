using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// The Bot Framework on loopback, as far as the trust scenario needs it: an OpenID metadata document and
/// key set (keys endorsed for <c>msteams</c>, one endorsed for nothing, one for <c>webchat</c> only), a
/// token endpoint for the bot's own calls, and a connector that accepts and counts every call. Tokens
/// are signed RS256 like the Bot Connector's (issuer https://api.botframework.com, audience the app id,
/// a <c>serviceurl</c> claim).
/// </summary>
internal sealed class FakeBotFramework : IAsyncDisposable
{
    public const string AppId = "9a6b1f2e-4c3d-4e5f-8a7b-6c5d4e3f2a1b";
    public const string TenantId = "7f3e2d1c-0b9a-4876-9543-210fedcba987";
    public const string ForeignTenantId = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    private const string Issuer = "https://api.botframework.com";

    private readonly WebApplication _app;
    private readonly List<JsonObject> _keys = [];
    private long _connectorCalls;

    public RsaSecurityKey Teams { get; } = Key("teams-key");
    public RsaSecurityKey Unendorsed { get; } = Key("no-endorsements-key");
    public RsaSecurityKey WebChat { get; } = Key("webchat-key");
    public RsaSecurityKey Unpublished { get; } = Key("unpublished-key");

    public string BaseUrl { get; private set; } = "";
    public string ConnectorUrl => BaseUrl + "connector/";
    public long ConnectorCalls => Interlocked.Read(ref _connectorCalls);
    public ConcurrentQueue<string> ConnectorPaths { get; } = new();

    private FakeBotFramework(WebApplication app)
    {
        _app = app;
        Publish(Teams, ["msteams"]);
        Publish(Unendorsed, null);
        Publish(WebChat, ["webchat"]);
    }

    private static RsaSecurityKey Key(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    private void Publish(RsaSecurityKey key, string[]? endorsements)
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
        var json = new JsonObject { ["kty"] = "RSA", ["use"] = "sig", ["kid"] = jwk.Kid, ["n"] = jwk.N, ["e"] = jwk.E };
        if (endorsements is not null)
        {
            json["endorsements"] = new JsonArray(endorsements.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray());
        }
        _keys.Add(json);
    }

    public static async Task<FakeBotFramework> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeBotFramework(app);
        app.MapGet("/.well-known/openidconfiguration", () => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = "https://invalid.botframework.com/v1/auth",
            ["jwks_uri"] = fake.BaseUrl + "keys",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["token_endpoint_auth_methods_supported"] = new[] { "private_key_jwt" },
        }), "application/json"));
        app.MapGet("/keys", () => Results.Text(new JsonObject { ["keys"] = new JsonArray(fake._keys.Select(k => (JsonNode)k.DeepClone()).ToArray()) }.ToJsonString(), "application/json"));
        app.MapPost("/oauth2/token", () => Results.Text("""{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"bench-bot-token"}""", "application/json"));
        app.Map("/connector/{**rest}", (HttpContext context) =>
        {
            Interlocked.Increment(ref fake._connectorCalls);
            fake.ConnectorPaths.Enqueue(context.Request.Method + " " + context.Request.Path);
            context.Response.StatusCode = 201;
            return context.Response.WriteAsync("""{"id":"a:bench-1","activityId":"1"}""");
        });
        await app.StartAsync();
        fake.BaseUrl = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";
        return fake;
    }

    /// <summary>Bot settings for a bot of this fake's app id serving only <see cref="TenantId"/>.</summary>
    public Dictionary<string, string> Settings() => new()
    {
        ["Teams:AppId"] = AppId,
        ["Teams:AppPassword"] = "bench-app-password",
        ["Teams:TenantId"] = TenantId,
        ["Teams:OpenIdMetadataUrl"] = BaseUrl + ".well-known/openidconfiguration",
        ["Teams:TokenEndpoint"] = BaseUrl + "oauth2/token",
        ["Teams:AllowedServiceUrls:0"] = BaseUrl.TrimEnd('/'),
    };

    public string Token(RsaSecurityKey key) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = Issuer,
        Audience = AppId,
        IssuedAt = DateTime.UtcNow.AddMinutes(-5),
        NotBefore = DateTime.UtcNow.AddMinutes(-5),
        Expires = DateTime.UtcNow.AddMinutes(30),
        Claims = new Dictionary<string, object> { ["serviceurl"] = ConnectorUrl },
        SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
    });

    /// <summary>The captured Teams channel @mention from the fixtures, in this tenant, typed by <paramref name="aadObjectId"/>.</summary>
    public JsonObject Mention(string text, string aadObjectId)
    {
        var activity = JsonNode.Parse(File.ReadAllText(Path.Combine(Paths.Fixtures, "teams", "channel-message-mention.teams-net-test.json")))!.AsObject();
        activity["serviceUrl"] = ConnectorUrl;
        activity["text"] = "<at>ridotest</at> " + text;
        activity["recipient"]!["id"] = "28:" + AppId;
        activity["from"]!["aadObjectId"] = aadObjectId;
        activity["conversation"]!["tenantId"] = TenantId;
        activity["channelData"]!["tenant"]!["id"] = TenantId;
        return activity;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
