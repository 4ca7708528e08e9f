using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// GET /api/audit is read with its own key (Audit:ApiKey), never the credentials EventBridge holds for
/// ingest, and its CSV cannot run as a spreadsheet formula.
/// </summary>
public sealed class AuditExportTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static readonly DateTimeOffset At = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private static HttpRequestMessage Get(string path, Action<HttpRequestHeaders>? auth = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        auth?.Invoke(request.Headers);
        return request;
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<TestApp> AppWithOneRecordAsync(RedisServer redis, Dictionary<string, string?> more)
    {
        var app = new TestApp(TestApp.WithRedis(redis, more));
        await app.Service<IAuditLog>().AppendAsync(new AuditRecord
        {
            At = At, Action = "acknowledged", ActorPlatform = "slack", ActorId = "U1", ActorName = "ana", Owner = "shop", GroupId = "g1",
        }, default);
        return app;
    }

    [Fact]
    public async Task IngestCredentialsDoNotOpenTheAuditExport()
    {
        await using var app = await AppWithOneRecordAsync(redis, new()
        {
            ["Ingest:BasicUser"] = "eventbridge",
            ["Ingest:BasicPassword"] = "ingest-basic-password-0123",
        });
        var client = app.Client();

        // The ingest key and Basic pair are good credentials, for ingest: that is what they open.
        using (var ingest = new HttpRequestMessage(HttpMethod.Post, "/api/inspector/events") { Content = new StringContent(FindingEvents.Ec2("basic-ok").ToJsonString(), Encoding.UTF8, "application/json") })
        {
            ingest.Headers.Authorization = Basic("eventbridge", "ingest-basic-password-0123");
            Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(ingest)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/api/audit", h => h.Add("X-Api-Key", TestApp.ApiKey)))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/api/audit", h => h.Authorization = new("Bearer", TestApp.ApiKey)))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/api/audit", h => h.Authorization = Basic("eventbridge", "ingest-basic-password-0123")))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/api/audit"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/api/audit", h => h.Add("X-Api-Key", TestApp.AuditKey + "x")))).StatusCode);

        var ok = await client.SendAsync(Get("/api/audit?format=json", h => h.Add("X-Api-Key", TestApp.AuditKey)));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("acknowledged", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var bearer = await client.SendAsync(Get("/api/audit?format=json", h => h.Authorization = new("Bearer", TestApp.AuditKey)));
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    [Fact]
    public async Task WithoutAnAuditKeyTheExportIsOffWithProblemDetails()
    {
        await using var app = await AppWithOneRecordAsync(redis, new() { ["Audit:ApiKey"] = "" });

        var response = await app.Client().SendAsync(Get("/api/audit?format=json", h => h.Add("X-Api-Key", TestApp.ApiKey)));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("Audit:ApiKey", body, StringComparison.Ordinal);
        Assert.DoesNotContain("acknowledged", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Audit:ApiKey", TestApp.ApiKey)]
    [InlineData("Ingest:BasicPassword", TestApp.AuditKey)]
    public async Task AnAuditKeyEqualToAnIngestCredentialStopsStartUp(string key, string value)
    {
        await using var app = new TestApp(TestApp.WithRedis(redis, new() { [key] = value, ["Ingest:BasicUser"] = "eventbridge" }));
        var error = Assert.ThrowsAny<Exception>(() => app.Client());
        Assert.Contains("Audit:ApiKey must differ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongIngestBasicCredentialsAre401AndStoreNothing()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis, new()
        {
            ["Ingest:BasicUser"] = "eventbridge",
            ["Ingest:BasicPassword"] = "ingest-basic-password-0123",
        }));
        foreach (var auth in new[] { Basic("eventbridge", "wrong"), Basic("intruder", "ingest-basic-password-0123"), Basic("eventbridge", ""), new AuthenticationHeaderValue("Basic", "not-base64!") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/inspector/events")
            {
                Content = new StringContent(FindingEvents.Ec2("basic-bad").ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = auth;
            var response = await app.Client().SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Empty(await app.Service<IAlertStore>().OwnersAsync(default));
    }

    public static TheoryData<string> FormulaStarts() =>
    [
        "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", " =1", "\u00A0=1", "\u200B=1",
        "\uFF1D1+1", "\uFF0B1", "\uFF0D1", "\uFF20SUM(A1)", "|calc", ";cmd",
    ];

    [Theory]
    [MemberData(nameof(FormulaStarts))]
    public async Task CsvCellsThatCouldStartAFormulaAreQuotedBehindAnApostrophe(string detail)
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));
        await app.Service<IAuditLog>().AppendAsync(new AuditRecord
        {
            At = At, Action = "acknowledged", ActorPlatform = "slack", ActorId = "U1", ActorName = detail, Owner = "shop", Detail = detail,
        }, default);

        var response = await app.Client().SendAsync(Get("/api/audit?format=csv", h => h.Add("X-Api-Key", TestApp.AuditKey)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var csv = await response.Content.ReadAsStringAsync();
        var neutralised = "\"'" + detail + "\"";
        // Twice: the actor name and the detail column.
        Assert.Equal(2, CountOf(csv, neutralised));
        Assert.DoesNotContain("," + detail, csv, StringComparison.Ordinal);
    }

    /// <summary>Someone with write access to Redis rebuilt the stream with one record edited: the verify endpoint names it.</summary>
    [Fact]
    public async Task VerifyEndpointReportsTheFirstAlteredRecordWith409()
    {
        await using var app = await AppWithOneRecordAsync(redis, []);
        for (var i = 0; i < 3; i++)
        {
            await app.Service<IAuditLog>().AppendAsync(new AuditRecord
            {
                At = At.AddMinutes(i + 1), Action = "acknowledged", ActorPlatform = "slack", ActorId = "U" + i, ActorName = "n", Owner = "shop", GroupId = "g1",
            }, default);
        }
        var client = app.Client();
        var intact = await client.SendAsync(Get("/api/audit/verify", h => h.Add("X-Api-Key", TestApp.AuditKey)));
        Assert.Equal(HttpStatusCode.OK, intact.StatusCode);
        Assert.Equal(401, (int)(await client.SendAsync(Get("/api/audit/verify", h => h.Add("X-Api-Key", TestApp.ApiKey)))).StatusCode);

        var store = app.Service<RedisStore>();
        var key = store.Keys.Audit(store.Keys.PartitionOf("g1"));
        await using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = connection.GetDatabase();
        var entries = await db.StreamRangeAsync(key, "-", "+");
        await db.KeyDeleteAsync(key);
        foreach (var e in entries)
        {
            var record = e["r"].ToString();
            await db.ExecuteAsync("XADD", key, e.Id, "r", e.Id == entries[2].Id ? record.Replace("\"U1\"", "\"U9\"", StringComparison.Ordinal) : record, "p", e["p"], "h", e["h"]);
        }

        var broken = await client.SendAsync(Get("/api/audit/verify", h => h.Add("X-Api-Key", TestApp.AuditKey)));

        Assert.Equal(HttpStatusCode.Conflict, broken.StatusCode);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await broken.Content.ReadAsStringAsync())!;
        Assert.False(body["intact"]!.GetValue<bool>());
        Assert.Equal(entries[2].Id.ToString(), body["firstBroken"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnUnknownControlOrCursorIsA400NamingIt()
    {
        await using var app = await AppWithOneRecordAsync(redis, []);
        var control = await app.Client().SendAsync(Get("/api/audit?control=6.2", h => h.Add("X-Api-Key", TestApp.AuditKey)));
        Assert.Equal(HttpStatusCode.BadRequest, control.StatusCode);
        Assert.Contains("6.3.3", await control.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var cursor = await app.Client().SendAsync(Get("/api/audit?cursor=not-a-cursor", h => h.Add("X-Api-Key", TestApp.AuditKey)));
        Assert.Equal(HttpStatusCode.BadRequest, cursor.StatusCode);
        Assert.Contains("cursor", await cursor.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnExportLargerThanItsLimitLinksToTheNextPage()
    {
        await using var app = await AppWithOneRecordAsync(redis, []);
        for (var i = 0; i < 4; i++)
        {
            await app.Service<IAuditLog>().AppendAsync(new AuditRecord { At = At.AddMinutes(i + 1), Action = "assigned", ActorPlatform = "slack", ActorId = "P" + i, ActorName = "n", GroupId = "g" + i }, default);
        }
        var seen = new List<string>();
        var url = "/api/audit?format=json&limit=2";
        for (var pages = 0; url is not null && pages < 10; pages++)
        {
            var response = await app.Client().SendAsync(Get(url, h => h.Add("X-Api-Key", TestApp.AuditKey)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.AddRange(System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => e!["record"]!["actorId"]!.GetValue<string>()));
            url = response.Headers.TryGetValues("Link", out var link) ? link.Single().Split('>')[0].TrimStart('<') : null;
        }
        Assert.Equal(["P0", "P1", "P2", "P3", "U1"], seen.Order());
    }

    [Fact]
    public void OrdinaryCellsAreLeftAsTheyAre()
    {
        Assert.Equal("ana", ChatOpsInspector.Workflow.AuditExportApi.Cell("ana"));
        Assert.Equal("2026-11-01T12:00:00.0000000Z", ChatOpsInspector.Workflow.AuditExportApi.Cell("2026-11-01T12:00:00.0000000Z"));
        Assert.Equal("\"a,b\"", ChatOpsInspector.Workflow.AuditExportApi.Cell("a,b"));
        Assert.Equal("\"'=HYPERLINK(\"\"x\"\")\"", ChatOpsInspector.Workflow.AuditExportApi.Cell("=HYPERLINK(\"x\")"));
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
