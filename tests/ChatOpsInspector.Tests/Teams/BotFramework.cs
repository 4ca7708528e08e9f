using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatOpsInspector.Tests.Teams;

/// <summary>
/// The Microsoft side of a Teams bot, on 127.0.0.1: an OpenID metadata + JWKS server whose RSA key
/// the test signs tokens with, a client-credentials token endpoint, a Bot Connector that records
/// calls, and a rogue "connector" that no token may reach.
/// </summary>
public sealed class BotFramework : IAsyncDisposable
{
    public const string AppId = "5b1a0f5e-7c43-4f7a-9a55-1d0f3c2e8b11";
    public const string BotId = "28:" + AppId;
    public const string TenantId = "50612dbb-0237-4969-b378-8d42590f9c00";

    /// <summary>Another organisation's tenant: genuine Microsoft tokens, but not one of the bot's tenants.</summary>
    public const string ForeignTenantId = "56653e9d-2158-46ee-90d7-675c39642038";
    public const string TeamId = "19:66P469zibfbsGI-_a0aN_toLTZpyzS6u7CT3TsXdgPw1@thread.tacv2";
    public const string ChannelId = "19:6848757105754c8981c67612732d9aa7@thread.tacv2";
    public const string Issuer = "https://api.botframework.com";
    public const string BotAccessToken = "fake-bot-access-token";
    public const string SuppressorAad = "c5e99701-2a32-49c1-a660-4629ceeb8c61";
    public const string ApproverAad = "a0e4c0de-0000-4000-8000-00000000a001";
    public const string MemberAad = "b15a9416-0ad3-4172-9210-7beb711d3f70";

    private int _nextId = 1000;
    private readonly List<JsonWebKey> _published = [];

    /// <summary>The e-mail the connector reports for any member; null answers 404 as for a guest without one.</summary>
    public string? MemberEmail { get; set; }

    /// <summary>When set, creating a 1:1 conversation (POST /v3/conversations, isGroup false) is answered 403.</summary>
    public bool RefusePersonalChats { get; set; }

    /// <summary>
    /// Team members GET /v3/conversations/{id}/members/{userId} answers with, keyed by every id the
    /// connector accepts for them (Teams user id, Entra object id, UPN), as TeamsChannelAccount JSON.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, JsonObject> Roster { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds a person to <see cref="Roster"/> under their Teams user id, Entra object id and UPN.</summary>
    public void AddMember(string teamsId, string aadObjectId, string name, string upn)
    {
        var member = new JsonObject { ["id"] = teamsId, ["name"] = name, ["aadObjectId"] = aadObjectId, ["email"] = upn, ["userPrincipalName"] = upn };
        Roster[teamsId] = member;
        Roster[aadObjectId] = member;
        Roster[upn] = member;
    }

    public FakeServer Login { get; private set; } = null!;
    public FakeServer Connector { get; private set; } = null!;
    public FakeServer Rogue { get; private set; } = null!;
    public RsaSecurityKey SigningKey { get; }

    private BotFramework()
    {
        SigningKey = NewKey("key-1");
        Publish(SigningKey);
    }

    public static async Task<BotFramework> StartAsync()
    {
        var bf = new BotFramework();
        bf.Login = await FakeServer.StartAsync((app, server) =>
        {
            app.MapGet("/.well-known/openidconfiguration", () => Results.Text(
                JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["issuer"] = Issuer,
                    ["authorization_endpoint"] = "https://invalid.botframework.com/v1/auth",
                    ["jwks_uri"] = server.BaseUrl + "keys",
                    ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
                    ["token_endpoint_auth_methods_supported"] = new[] { "private_key_jwt" },
                }), "application/json"));
            app.MapGet("/keys", () => Results.Text(bf.Jwks(), "application/json"));
            app.MapPost("/oauth2/token", () => Results.Text(
                $$"""{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"{{BotAccessToken}}"}""", "application/json"));
        });
        bf.Connector = await FakeServer.StartAsync((app, _) => app.Run(bf.ConnectorAsync));
        bf.Rogue = await FakeServer.StartAsync((app, _) => app.Run(bf.ConnectorAsync));
        return bf;
    }

    public static RsaSecurityKey NewKey(string kid) => new(RSA.Create(2048)) { KeyId = kid };

    /// <summary>Adds a key to the JWKS, as Microsoft does before signing with a new key.</summary>
    public void Publish(RsaSecurityKey key, params string[] endorsements) =>
        PublishJwk(key, endorsements.Length > 0 ? endorsements : ["msteams"]);

    /// <summary>Adds a key that lists no endorsements at all: Bot Builder refuses tokens it signed.</summary>
    public void PublishWithoutEndorsements(RsaSecurityKey key) => PublishJwk(key, null);

    private void PublishJwk(RsaSecurityKey key, string[]? endorsements)
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(key);
        jwk.Use = "sig";
        jwk.AdditionalData["endorsements"] = endorsements;
        lock (_published)
        {
            _published.Add(jwk);
        }
    }

    private string Jwks()
    {
        lock (_published)
        {
            var keys = new JsonArray([.. _published.Select(k =>
            {
                var key = new JsonObject { ["kty"] = "RSA", ["use"] = k.Use, ["kid"] = k.Kid, ["n"] = k.N, ["e"] = k.E };
                if (k.AdditionalData["endorsements"] is string[] endorsements)
                {
                    key["endorsements"] = new JsonArray([.. endorsements.Select(e => (JsonNode)JsonValue.Create(e)!)]);
                }
                return (JsonNode)key;
            })]);
            return new JsonObject { ["keys"] = keys }.ToJsonString();
        }
    }

    /// <summary>Connector: create conversation, send, reply, update; ids are predictable per call.</summary>
    private async Task ConnectorAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var id = Interlocked.Increment(ref _nextId).ToString();
        context.Response.ContentType = "application/json";
        if (context.Request.Method == "POST" && path == "/v3/conversations")
        {
            using var doc = await JsonDocument.ParseAsync(context.Request.Body);
            var isGroup = doc.RootElement.TryGetProperty("isGroup", out var g) && g.GetBoolean();
            if (!isGroup && RefusePersonalChats)
            {
                // What the connector answers when the user has not installed the app (Bot Framework REST API reference, error codes).
                context.Response.StatusCode = 403;
                await context.Response.WriteAsync("""{"error":{"code":"Forbidden","message":"The bot is not installed for this user."}}""");
                return;
            }
            var conversation = isGroup
                ? doc.RootElement.GetProperty("channelData").GetProperty("channel").GetProperty("id").GetString() + ";messageid=" + id
                : "a:personal-" + id;
            context.Response.StatusCode = 201;
            await context.Response.WriteAsync($$"""{"id":"{{conversation}}","activityId":"{{id}}"}""");
            return;
        }
        if (context.Request.Method == "GET" && path.Contains("/members/", StringComparison.Ordinal)
            && Roster.TryGetValue(Uri.UnescapeDataString(path[(path.LastIndexOf('/') + 1)..]), out var listed))
        {
            await context.Response.WriteAsync(listed.ToJsonString());
            return;
        }
        if (context.Request.Method == "GET" && path.Contains("/members/", StringComparison.Ordinal) && MemberEmail is { } email)
        {
            await context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["id"] = path[(path.LastIndexOf('/') + 1)..],
                ["email"] = email,
                ["userPrincipalName"] = email,
            }));
            return;
        }
        if (path.StartsWith("/v3/conversations/", StringComparison.Ordinal) && path.Contains("/activities", StringComparison.Ordinal))
        {
            context.Response.StatusCode = context.Request.Method == "PUT" ? 200 : 201;
            await context.Response.WriteAsync($$"""{"id":"{{id}}"}""");
            return;
        }
        context.Response.StatusCode = 404;
        await context.Response.WriteAsync("""{"error":{"code":"NotFound","message":"no such route"}}""");
    }

    public string ServiceUrl => Connector.BaseUrl;

    public Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Teams:AppId"] = AppId,
            ["Teams:AppPassword"] = "test-app-password",
            ["Teams:TenantId"] = TenantId,
            ["Teams:OpenIdMetadataUrl"] = Login.BaseUrl + ".well-known/openidconfiguration",
            ["Teams:TokenEndpoint"] = Login.BaseUrl + "oauth2/token",
            ["Teams:AllowedServiceUrls:0"] = Connector.BaseUrl.TrimEnd('/'),
            ["Routing:Default:Owner"] = "security",
            ["Routing:Default:TeamsChannel"] = ChannelId,
            ["Routing:Default:Suppressors:0"] = SuppressorAad,
            ["Routing:Default:Suppressors:1"] = "sec-lead@example.com",
            ["Routing:Default:Approvers:0"] = ApproverAad,
            ["Routing:Default:Members:0"] = $"{MemberAad}, ana@example.com",
        };
        foreach (var (k, v) in more ?? [])
        {
            settings[k] = v;
        }
        return settings;
    }

    /// <summary>A Bot Framework token as the connector would send it; every part can be spoiled.</summary>
    public string Token(
        string? serviceUrl = null,
        string issuer = Issuer,
        string audience = AppId,
        DateTime? expires = null,
        RsaSecurityKey? key = null)
    {
        var exp = expires ?? DateTime.UtcNow.AddMinutes(30);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = exp.AddHours(-1),
            NotBefore = exp.AddHours(-1),
            Expires = exp,
            Claims = new Dictionary<string, object> { ["serviceurl"] = serviceUrl ?? ServiceUrl },
            SigningCredentials = new SigningCredentials(key ?? SigningKey, SecurityAlgorithms.RsaSha256),
        });
    }

    public static async Task<HttpResponseMessage> SendAsync(TestApp app, JsonObject activity, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
        {
            Content = new StringContent(activity.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return await app.Client().SendAsync(request);
    }

    /// <summary>Sends with a valid token for the activity's own serviceUrl.</summary>
    public Task<HttpResponseMessage> SendAsync(TestApp app, JsonObject activity) =>
        SendAsync(app, activity, Token(activity["serviceUrl"]!.GetValue<string>()));

    /// <summary>conversationUpdate: the bot was added to a team (its General channel is <paramref name="channel"/>).</summary>
    public JsonObject BotAddedToTeam(string channel = ChannelId, string team = TeamId, string? serviceUrl = null) => new()
    {
        ["type"] = "conversationUpdate",
        ["channelId"] = "msteams",
        ["id"] = "f:" + Guid.NewGuid(),
        ["serviceUrl"] = serviceUrl ?? ServiceUrl,
        ["from"] = new JsonObject { ["id"] = "29:installer", ["aadObjectId"] = MemberAad },
        ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "ChatOpsInspector" },
        ["conversation"] = new JsonObject { ["id"] = channel, ["isGroup"] = true, ["conversationType"] = "channel", ["tenantId"] = TenantId },
        ["membersAdded"] = new JsonArray(new JsonObject { ["id"] = BotId }),
        ["channelData"] = new JsonObject
        {
            ["team"] = new JsonObject { ["id"] = team, ["name"] = "Security" },
            ["eventType"] = "teamMemberAdded",
            ["tenant"] = new JsonObject { ["id"] = TenantId },
        },
    };

    public JsonObject BotRemovedFromTeam(string team = TeamId)
    {
        var activity = BotAddedToTeam(team: team);
        activity.Remove("membersAdded");
        activity["membersRemoved"] = new JsonArray(new JsonObject { ["id"] = BotId });
        activity["channelData"]!["eventType"] = "teamMemberRemoved";
        return activity;
    }

    /// <summary>The captured channel @mention from the fixtures, pointed at the fake connector and this bot.</summary>
    public JsonObject ChannelMention(string command, string? serviceUrl = null)
    {
        var activity = JsonNode.Parse(Fixtures.Read("teams", "channel-message-mention.teams-net-test.json"))!.AsObject();
        activity["serviceUrl"] = serviceUrl ?? ServiceUrl;
        activity["text"] = "<at>ridotest</at> " + command;
        return activity;
    }

    /// <summary>The captured message turned into one typed in the bot's personal chat with <paramref name="aadObjectId"/>.</summary>
    public JsonObject PersonalMessage(string command, string aadObjectId = MemberAad)
    {
        var activity = ChannelMention(command);
        activity["from"]!["aadObjectId"] = aadObjectId;
        activity["conversation"] = new JsonObject
        {
            ["id"] = "a:1personal-" + aadObjectId,
            ["conversationType"] = "personal",
            ["tenantId"] = TenantId,
        };
        activity["channelData"] = new JsonObject { ["tenant"] = new JsonObject { ["id"] = TenantId } };
        activity.Remove("entities");
        activity["text"] = command;
        return activity;
    }

    /// <summary>
    /// A captured activity from the fixtures, moved into this bot's tenant and pointed at the fake
    /// connector (the capture came from another organisation's tenant, which the bot does not serve).
    /// </summary>
    public JsonObject Captured(string fixture)
    {
        var activity = JsonNode.Parse(Fixtures.Read("teams", fixture))!.AsObject();
        activity["serviceUrl"] = ServiceUrl;
        activity["conversation"]!["tenantId"] = TenantId;
        activity["channelData"]!["tenant"]!["id"] = TenantId;
        return activity;
    }

    /// <summary>The captured Action.Execute invoke from the fixtures, with this bot's verb and data.</summary>
    public JsonObject Invoke(string verb, JsonObject data, string aadObjectId = MemberAad, string name = "Rido")
    {
        var activity = Captured("invoke-adaptiveCard-action.teams-net-test.json");
        activity["from"]!["aadObjectId"] = aadObjectId;
        activity["from"]!["name"] = name;
        activity["value"]!["action"] = new JsonObject
        {
            ["type"] = "Action.Execute",
            ["verb"] = verb,
            ["data"] = data,
        };
        return activity;
    }

    public async ValueTask DisposeAsync()
    {
        await Login.DisposeAsync();
        await Connector.DisposeAsync();
        await Rogue.DisposeAsync();
        SigningKey.Rsa.Dispose();
    }
}
