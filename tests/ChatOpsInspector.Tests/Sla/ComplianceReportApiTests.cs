using System.Net;
using System.Text.Json.Nodes;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Sla;

/// <summary>
/// GET /api/reports/sla: the compliance report of groups stored in Redis, behind the audit key, with
/// problem details for a bad month or format and spreadsheet-safe CSV.
/// </summary>
public sealed class ComplianceReportApiTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static HttpRequestMessage Get(string path, string? key = TestApp.AuditKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("X-Api-Key", key);
        }
        return request;
    }

    [Fact]
    public async Task JsonReportOfOneOwnerHasTheFiguresOfItsStoredGroups()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));
        await ComplianceSeed.NovemberAsync(app);

        var response = await app.Client().SendAsync(Get("/api/reports/sla?month=2026-11&owner=PAYMENTS&format=json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("2026-11", json["month"]!.GetValue<string>());
        var rows = json["rows"]!.AsArray();
        Assert.Equal(["CRITICAL", "HIGH"], rows.Select(r => r!["severity"]!.GetValue<string>()));
        var critical = rows[0]!;
        // a met; b fixed late and c open past due: missed. 1 of 3 = 33.3 %.
        Assert.Equal("payments", critical["owner"]!.GetValue<string>());
        Assert.Equal((3, 3, 1, 2, 1), (Int(critical, "groups"), Int(critical, "findings"), Int(critical, "met"), Int(critical, "missed"), Int(critical, "openPastDue")));
        Assert.Equal(33.3, critical["metPercent"]!.GetValue<double>());
        // TTA 1 h and 3 h from the posted cards: mean 2 h, p90 3 h. TTF 12 h and 48 h: mean 30 h, p90 48 h.
        Assert.Equal((2.0, 3.0), (critical["meanHoursToAcknowledge"]!.GetValue<double>(), critical["p90HoursToAcknowledge"]!.GetValue<double>()));
        Assert.Equal((30.0, 48.0), (critical["meanHoursToFix"]!.GetValue<double>(), critical["p90HoursToFix"]!.GetValue<double>()));
        var high = rows[1]!;
        Assert.Equal((1, 2, 1, 0, 100.0), (Int(high, "groups"), Int(high, "findings"), Int(high, "met"), Int(high, "missed"), high["metPercent"]!.GetValue<double>()));
        Assert.Null(high["meanHoursToAcknowledge"]);
        var total = json["total"]!;
        Assert.Equal(("ALL", 4, 2, 2), (total["severity"]!.GetValue<string>(), Int(total, "groups"), Int(total, "met"), Int(total, "missed")));
    }

    [Fact]
    public async Task CsvReportHasOneLinePerOwnerAndSeverityAndATotal()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));
        await ComplianceSeed.NovemberAsync(app);

        var response = await app.Client().SendAsync(Get("/api/reports/sla?month=2026-11&format=csv"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(ChatOpsInspector.Sla.ComplianceReportApi.CsvHeader, lines[0]);
        Assert.Equal(
        [
            "2026-11,payments,CRITICAL,3,3,1,2,33.3,1,0,0,2,2,3,2,30,48",
            "2026-11,payments,HIGH,1,2,1,0,100,0,0,0,0,,,1,24,24",
            "2026-11,security,CRITICAL,1,1,0,1,0,1,0,0,0,,,0,,",
            "2026-11,all,ALL,5,6,2,3,40,2,0,0,2,2,3,3,28,48",
        ], lines[1..]);
    }

    [Fact]
    public async Task OwnerNamesThatCouldStartAFormulaAreNeutralisedInCsv()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));
        await ComplianceSeed.GroupAsync(app, "=HYPERLINK(1)", "CVE-2026-3001", Severity.High, "2026-11-01T00:00:00Z", "2026-11-04T00:00:00Z");

        var csv = await (await app.Client().SendAsync(Get("/api/reports/sla?month=2026-11&format=csv"))).Content.ReadAsStringAsync();

        Assert.Contains("2026-11,\"'=HYPERLINK(1)\",HIGH,", csv, StringComparison.Ordinal);
        Assert.DoesNotContain(",=HYPERLINK", csv, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("month=2026-13", "month")]
    [InlineData("month=November", "month")]
    [InlineData("month=2026-11&format=xlsx", "format")]
    [InlineData("month=2026-11&owner=", "owner")]
    public async Task ABadQueryIsProblemDetailsNamingTheParameter(string query, string parameter)
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));

        var response = await app.Client().SendAsync(Get("/api/reports/sla?" + query));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsObject();
        Assert.Equal([parameter], errors.Select(e => e.Key));
    }

    // The report is evidence: the ingest key (good for ingest) does not open it, nor does no key.
    [Fact]
    public async Task OnlyTheAuditKeyOpensTheReport()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis));
        await ComplianceSeed.NovemberAsync(app);
        var client = app.Client();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/api/reports/sla?month=2026-11", TestApp.ApiKey))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(Get("/api/reports/sla?month=2026-11", key: null))).StatusCode);
        var unauthorized = await client.SendAsync(Get("/api/reports/sla?month=2026-11", TestApp.AuditKey + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.DoesNotContain("payments", await unauthorized.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Get("/api/reports/sla?month=2026-11"))).StatusCode);
    }

    [Fact]
    public async Task WithoutAnAuditKeyTheReportIsOff()
    {
        await using var app = new TestApp(TestApp.WithRedis(redis, new() { ["Audit:ApiKey"] = "" }));

        var response = await app.Client().SendAsync(Get("/api/reports/sla?month=2026-11", TestApp.ApiKey));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("/api/reports/sla", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static int Int(JsonNode row, string name) => row[name]!.GetValue<int>();
}
