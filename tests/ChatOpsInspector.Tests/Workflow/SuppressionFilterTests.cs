using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Cards;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Aws;
using ChatOpsInspector.Tests.Infrastructure;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// "Suppress" creates Inspector2 filters that match exactly the alert's findings. The oracle for every
/// criterion name, list limit and enum is Inspector2's API model as botocore publishes it:
/// github.com/boto/botocore, botocore/data/inspector2/2020-06-08/service-2.json @ 0e6e2404b85dc336dd2889814e089bde7d1a4c55
/// (shapes FilterCriteria, StringFilter, StringFilterList "max": 10, PortRangeFilter, MapFilter, CreateFilterRequest,
/// FilterAction NONE|SUPPRESS, StringComparison EQUALS|PREFIX|NOT_EQUALS, ListFiltersRequest), copied to
/// Fixtures/aws/botocore/inspector2-2020-06-08.excerpt.json. The fake Inspector checks every request the bot
/// sends against it, keeps filters per region and account, lists them in pages, and re-checks SigV4.
/// </summary>
public sealed class SuppressionFilterTests(RedisServer redis) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly Actor Security = new("slack", "U_SEC", "Sec", Workspace: "T0REMEDY1");
    private const string Account = "123456789012";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
    private FakeAws _aws = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _aws = await FakeAws.StartAsync();
        _app = _aws.RemediationApp(redis, _time, new()
        {
            ["Alerting:MinSeverity"] = "LOW",
            ["Routing:Rules:0:Tags:team"] = "payments",
            ["Routing:Rules:0:Target:Owner"] = "payments",
            ["Routing:Rules:0:Target:Suppressors:0"] = "U_SEC",
            ["Routing:Default:Owner"] = "security",
            ["Routing:Default:Suppressors:0"] = "U_SEC",
        }, services =>
        {
            // A short client timeout, so the slow-CreateFilter test does not wait the production 30 s.
            services.AddHttpClient<IInspector2Client, Inspector2Client>(http => http.Timeout = TimeSpan.FromSeconds(2));
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _aws.DisposeAsync();
    }

    private IAlertStore Store => _app.Service<IAlertStore>();
    private RemediationWorker Worker => _app.Service<RemediationWorker>();

    private async Task<string> IngestAsync(params JsonObject[] events)
    {
        var response = await _app.PostEventsAsync(new JsonArray([.. events]).ToJsonString());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var groups = new List<string>();
        foreach (var owner in new[] { "payments", "security" })
        {
            groups.AddRange(await Store.GroupIdsAsync(owner, default));
        }
        return Assert.Single(groups);
    }

    private Task<TriageResult> SuppressAsync(string groupId) =>
        _app.Service<TriageService>().ExecuteAsync(new TriageRequest(groupId, CardAction.Suppress, Security)
        {
            Reason = "compensating control: not internet-facing",
            ExpiresAt = _time.GetUtcNow().AddDays(30),
        }, default);

    private async Task<IReadOnlyList<AuditRecord>> Audit() =>
        await _app.Service<IAuditLog>().ReadAsync(DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 1000, default);

    private async Task<AlertGroup> Group(string id) => (await Store.GetGroupAsync(id, default))!;

    /// <summary>The filterCriteria of every CreateFilter that reached the fake, in order.</summary>
    private JsonElement[] SentCriteria() =>
        [.. _aws.Server.To("/filters/create").Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("filterCriteria").Clone())];

    private static string[] Values(JsonElement criteria, string name) =>
        [.. criteria.GetProperty(name).EnumerateArray().Select(f =>
        {
            Assert.Equal("EQUALS", f.GetProperty("comparison").GetString());
            return f.GetProperty("value").GetString()!;
        })];

    private static string[] Names(JsonElement criteria) => [.. criteria.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    private static JsonObject Event(string file, string findingId, Action<JsonObject> change)
    {
        var evt = JsonNode.Parse(FindingEvents.Sample(file))!.AsObject();
        evt["id"] = Guid.NewGuid().ToString();
        var detail = evt["detail"]!.AsObject();
        detail["findingArn"] = FindingEvents.Arn(findingId);
        detail["status"] = "ACTIVE";
        change(detail);
        return evt;
    }

    /// <summary>An Inspector network reachability finding (shape of Inspector2's Finding.networkReachabilityDetails).</summary>
    private static JsonObject Network(string findingId, string instanceId) => JsonNode.Parse($$$"""
        {"id":"{{{Guid.NewGuid()}}}","source":"aws.inspector2","detail-type":"Inspector2 Finding","account":"{{{Account}}}","region":"eu-central-1",
         "detail":{"findingArn":"{{{FindingEvents.Arn(findingId)}}}","awsAccountId":"{{{Account}}}",
           "type":"NETWORK_REACHABILITY","severity":"HIGH","status":"ACTIVE","title":"Port 22 is reachable from an Internet Gateway",
           "updatedAt":"2026-11-27T08:00:00Z","firstObservedAt":"2026-11-27T08:00:00Z",
           "networkReachabilityDetails":{"protocol":"TCP","openPortRange":{"begin":22,"end":22},
             "networkPath":{"steps":[{"componentId":"igw-1","componentType":"AWS::EC2::InternetGateway"}]}},
           "resources":[{"type":"AWS_EC2_INSTANCE","id":"{{{instanceId}}}","region":"eu-central-1"}]}}
        """)!.AsObject();

    /// <summary>An Inspector Lambda code scan finding (Finding.codeVulnerabilityDetails).</summary>
    private static JsonObject Code(string findingId, string function, string file) => JsonNode.Parse($$$"""
        {"id":"{{{Guid.NewGuid()}}}","source":"aws.inspector2","detail-type":"Inspector2 Finding","account":"{{{Account}}}","region":"eu-central-1",
         "detail":{"findingArn":"{{{FindingEvents.Arn(findingId)}}}","awsAccountId":"{{{Account}}}",
           "type":"CODE_VULNERABILITY","severity":"HIGH","status":"ACTIVE","title":"CWE-117 - Log injection",
           "updatedAt":"2026-11-27T08:00:00Z","firstObservedAt":"2026-11-27T08:00:00Z",
           "codeVulnerabilityDetails":{"detectorId":"python/log-injection@v1.0","detectorName":"Log injection","cwes":["CWE-117"],
             "filePath":{"fileName":"app.py","filePath":"{{{file}}}","startLine":10,"endLine":12}},
           "resources":[{"type":"AWS_LAMBDA_FUNCTION","id":"arn:aws:lambda:eu-central-1:{{{Account}}}:function:{{{function}}}","region":"eu-central-1",
             "details":{"awsLambdaFunction":{"functionName":"{{{function}}}"} } }]}}
        """)!.AsObject();

    private void AssertEveryRequestConformsToTheModel()
    {
        Assert.Empty(_aws.ModelViolations);
        Assert.Empty(_aws.Rejected);
    }

    /// <summary>The model facts the bot's limits rest on, read from the copied model rather than assumed.</summary>
    [Fact]
    public void TheBotsLimitsAreThoseOfTheInspector2Model()
    {
        var model = BotocoreModel.Inspector2;
        Assert.StartsWith("https://github.com/boto/botocore/blob/0e6e2404b85dc336dd2889814e089bde7d1a4c55/", model.Root.GetProperty("source").GetString(), StringComparison.Ordinal);
        var criteria = model.Shape("FilterCriteria").GetProperty("members");
        foreach (var member in new[] { "resourceId", "awsAccountId", "vulnerabilityId", "findingType", "resourceTags", "ecrImageRepositoryName", "lambdaFunctionName", "networkProtocol", "portRange", "codeVulnerabilityDetectorName", "codeVulnerabilityFilePath" })
        {
            var list = model.Shape(criteria.GetProperty(member).GetProperty("shape").GetString()!);
            Assert.Equal(FindingFilterCriteria.MaxListEntries, list.GetProperty("max").GetInt32());
        }
        Assert.Equal(["EQUALS", "PREFIX", "NOT_EQUALS"], model.Shape("StringComparison").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains(FilterAction.Suppress, model.Shape("FilterAction").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(100, model.Shape("ListFilterMaxResults").GetProperty("max").GetInt32());

        // The check itself catches what AWS would refuse.
        var eleven = string.Join(",", Enumerable.Range(0, 11).Select(i => "{\"comparison\":\"EQUALS\",\"value\":\"i-" + i + "\"}"));
        using var bad = JsonDocument.Parse("{\"action\":\"HIDE\",\"name\":\"x\",\"filterCriteria\":{\"resourceId\":[" + eleven + "],\"vulnerabilityID\":[]}}");
        var errors = model.Validate(bad.RootElement, "CreateFilterRequest");
        Assert.Contains(errors, e => e.Contains("'HIDE' is not one of FilterAction", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("StringFilterList takes at most 10 (has 11)", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("vulnerabilityID: not a member of FilterCriteria", StringComparison.Ordinal));
    }

    /// <summary>
    /// Production condition: an EC2 package finding routed by a tag rule. The filter names the CVE, the
    /// account, the instance and the owner's routing tag, in the finding's region (eu-central-1), not the
    /// bot's home region; the card and the answer say what was suppressed once Inspector confirmed.
    /// </summary>
    [Fact]
    public async Task Ec2PackageGroupIsSuppressedByCveAccountInstanceAndRoutingTagInItsRegion()
    {
        var groupId = await IngestAsync(FindingEvents.Ec2("ec2-1", instanceId: "i-0aaaaaaaaaaaaaaa1",
            updatedAt: _time.GetUtcNow().AddHours(-1), tags: new() { ["team"] = "payments", ["Name"] = "web-1" }));

        var result = await SuppressAsync(groupId);

        Assert.True(result.Succeeded, result.Message);
        var criteria = Assert.Single(SentCriteria());
        Assert.Equal(["awsAccountId", "findingType", "resourceId", "resourceTags", "vulnerabilityId"], Names(criteria));
        Assert.Equal(["CVE-2024-29069"], Values(criteria, "vulnerabilityId"));
        Assert.Equal(["PACKAGE_VULNERABILITY"], Values(criteria, "findingType"));
        Assert.Equal([Account], Values(criteria, "awsAccountId"));
        Assert.Equal(["i-0aaaaaaaaaaaaaaa1"], Values(criteria, "resourceId"));
        var tag = Assert.Single(criteria.GetProperty("resourceTags").EnumerateArray());
        Assert.Equal("""{"comparison":"EQUALS","key":"team","value":"payments"}""", tag.GetRawText());
        var stored = Assert.Single(_aws.InspectorFilters.Values);
        Assert.Equal("eu-central-1", stored.Region);
        Assert.Contains(_aws.Signed, c => c.Operation == "/filters/create" && c.Region == "eu-central-1");
        AssertEveryRequestConformsToTheModel();

        var group = await Group(groupId);
        Assert.Equal([stored.Arn], group.Workflow.Suppression!.FilterArns);
        Assert.Equal("1 finding, 1 filter, eu-central-1", group.Workflow.Suppression.Scope);
        Assert.EndsWith(": 1 finding, 1 filter, eu-central-1.", result.Message, StringComparison.Ordinal);
        Assert.EndsWith(": 1 finding, 1 filter, eu-central-1", AlertCardBuilder.Build(group, _time.GetUtcNow()).StateLabel, StringComparison.Ordinal);
    }

    /// <summary>Production condition: a container image finding; the filter also names the ECR repository.</summary>
    [Fact]
    public async Task EcrPackageGroupIsSuppressedByCveImageAndRepository()
    {
        var groupId = await IngestAsync(Event("finding-ecr-package-vulnerability.json", "ecr-1", d => { }));

        Assert.True((await SuppressAsync(groupId)).Succeeded);

        var criteria = Assert.Single(SentCriteria());
        Assert.Equal(["awsAccountId", "ecrImageRepositoryName", "findingType", "resourceId", "vulnerabilityId"], Names(criteria));
        Assert.Equal(["CVE-2024-6119"], Values(criteria, "vulnerabilityId"));
        Assert.Equal(["inspector2"], Values(criteria, "ecrImageRepositoryName"));
        Assert.StartsWith("arn:aws:ecr:", Assert.Single(Values(criteria, "resourceId")), StringComparison.Ordinal);
        AssertEveryRequestConformsToTheModel();
    }

    /// <summary>Production condition: a Lambda package finding; the filter also names the function.</summary>
    [Fact]
    public async Task LambdaPackageGroupIsSuppressedByCveFunctionAndName()
    {
        var groupId = await IngestAsync(Event("finding-lambda-package-vulnerability.json", "lambda-1", d => { }));

        Assert.True((await SuppressAsync(groupId)).Succeeded);

        var criteria = Assert.Single(SentCriteria());
        Assert.Equal(["awsAccountId", "findingType", "lambdaFunctionName", "resourceId", "vulnerabilityId"], Names(criteria));
        Assert.Equal(["CVE-2023-30861"], Values(criteria, "vulnerabilityId"));
        Assert.Equal(["VulnerableFunction"], Values(criteria, "lambdaFunctionName"));
        AssertEveryRequestConformsToTheModel();
    }

    /// <summary>
    /// Production condition: port 22 open on two instances. Network findings carry no vulnerability id
    /// (the bot's NETWORK-TCP-22-22 is its own grouping key and must never reach Inspector): the filter
    /// names the finding type, protocol, port range and the two instances.
    /// </summary>
    [Fact]
    public async Task NetworkGroupIsSuppressedByTypeProtocolPortRangeAndInstances()
    {
        var groupId = await IngestAsync(Network("net-1", "i-0bbbbbbbbbbbbbbb1"), Network("net-2", "i-0bbbbbbbbbbbbbbb2"));

        Assert.True((await SuppressAsync(groupId)).Succeeded);

        var criteria = Assert.Single(SentCriteria());
        Assert.Equal(["awsAccountId", "findingType", "networkProtocol", "portRange", "resourceId"], Names(criteria));
        Assert.Equal(["NETWORK_REACHABILITY"], Values(criteria, "findingType"));
        Assert.Equal(["TCP"], Values(criteria, "networkProtocol"));
        Assert.Equal("""[{"beginInclusive":22,"endInclusive":22}]""", criteria.GetProperty("portRange").GetRawText());
        Assert.Equal(["i-0bbbbbbbbbbbbbbb1", "i-0bbbbbbbbbbbbbbb2"], Values(criteria, "resourceId"));
        Assert.DoesNotContain("NETWORK-TCP", criteria.GetRawText(), StringComparison.Ordinal);
        AssertEveryRequestConformsToTheModel();
    }

    /// <summary>
    /// Production condition: a Lambda code scan finding in two files. Inspector filters code findings by
    /// detector name (codeVulnerabilityDetectorName), not by the detector id the bot groups on.
    /// </summary>
    [Fact]
    public async Task CodeGroupIsSuppressedByDetectorNameFilePathsAndFunction()
    {
        var groupId = await IngestAsync(Code("code-1", "orders-api", "src/app.py"), Code("code-2", "orders-api", "src/handlers/log.py"));

        Assert.True((await SuppressAsync(groupId)).Succeeded);

        var criteria = Assert.Single(SentCriteria());
        Assert.Equal(["awsAccountId", "codeVulnerabilityDetectorName", "codeVulnerabilityFilePath", "findingType", "lambdaFunctionName", "resourceId"], Names(criteria));
        Assert.Equal(["CODE_VULNERABILITY"], Values(criteria, "findingType"));
        Assert.Equal(["Log injection"], Values(criteria, "codeVulnerabilityDetectorName"));
        Assert.Equal(["src/app.py", "src/handlers/log.py"], Values(criteria, "codeVulnerabilityFilePath"));
        Assert.Equal(["orders-api"], Values(criteria, "lambdaFunctionName"));
        Assert.Equal([$"arn:aws:lambda:eu-central-1:{Account}:function:orders-api"], Values(criteria, "resourceId"));
        Assert.DoesNotContain("log-injection@v1.0", criteria.GetRawText(), StringComparison.Ordinal);
        AssertEveryRequestConformsToTheModel();
    }

    /// <summary>
    /// Production condition: 25 instances, more than one resourceId list can hold (10). Three filters
    /// (10 + 10 + 5) together name every instance once, under names derived from the group; the answer
    /// and the card count them; lifting the suppression deletes all three.
    /// </summary>
    [Fact]
    public async Task A25InstanceGroupBecomesThreeFiltersAndUnsuppressDeletesThemAll()
    {
        var groupId = await IngestAsync([.. Enumerable.Range(0, 25).Select(n =>
            FindingEvents.Ec2($"fleet-{n}", instanceId: $"i-{n:x17}", updatedAt: _time.GetUtcNow().AddHours(-1)))]);

        var result = await SuppressAsync(groupId);

        Assert.True(result.Succeeded, result.Message);
        var sent = SentCriteria();
        Assert.Equal(3, sent.Length);
        Assert.Equal([10, 10, 5], sent.Select(c => c.GetProperty("resourceId").GetArrayLength()));
        Assert.Equal(Enumerable.Range(0, 25).Select(n => $"i-{n:x17}").Order(), sent.SelectMany(c => Values(c, "resourceId")).Order());
        Assert.All(sent, c => Assert.Equal(["CVE-2024-29069"], Values(c, "vulnerabilityId")));
        var group = await Group(groupId);
        var prefix = SuppressionFilters.PrefixOf(groupId, group.Workflow.Suppression!.At);
        Assert.Equal([prefix + "1", prefix + "2", prefix + "3"], _aws.InspectorFilters.Values.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(_aws.InspectorFilters.Keys.Order(), group.Workflow.Suppression.FilterArns.Order());
        Assert.Contains("25 findings, 3 filters, eu-central-1", result.Message, StringComparison.Ordinal);
        Assert.EndsWith("25 findings, 3 filters, eu-central-1", AlertCardBuilder.Build(group, _time.GetUtcNow()).StateLabel, StringComparison.Ordinal);

        var lifted = await _app.Service<TriageService>().ExecuteAsync(new TriageRequest(groupId, CardAction.Unsuppress, Security), default);
        Assert.True(lifted.Succeeded, lifted.Message);
        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return _aws.InspectorFilters.IsEmpty; }, "all three filters deleted");
        Assert.Equal(3, _aws.Server.To("/filters/delete").Count());
        AssertEveryRequestConformsToTheModel();
    }

    /// <summary>
    /// Production condition: CreateFilter makes the filter but its answer never arrives (the client times
    /// out). The bot looks the filter up by its deterministic name (ListFilters, every page) instead of
    /// creating a second one: exactly one filter exists, it is the one recorded, and the later sweep of
    /// unrecorded filters deletes nothing.
    /// </summary>
    [Fact]
    public async Task ACreateFilterThatTimesOutIsFoundByNameAndLeavesExactlyOneFilter()
    {
        // Filters of other suppressions fill the first pages, so the lookup must page.
        for (var n = 0; n < 5; n++)
        {
            var arn = $"arn:aws:inspector2:eu-central-1:{FakeAws.OwnAccount}:owner/{FakeAws.OwnAccount}/filter/other{n}";
            _aws.InspectorFilters[arn] = new FakeAws.StoredFilter(arn, $"aaa-other-{n}", "eu-central-1", FakeAws.OwnAccount, "SUPPRESS", "{\"filterCriteria\":{}}");
        }
        var groupId = await IngestAsync(FindingEvents.Ec2("slow-1", instanceId: "i-0ccccccccccccccc1", updatedAt: _time.GetUtcNow().AddHours(-1)));
        _aws.SlowCreates = 1;

        var result = await SuppressAsync(groupId);

        Assert.True(result.Succeeded, result.Message);
        Assert.Single(_aws.Server.To("/filters/create"));
        Assert.True(_aws.Server.To("/filters/list").Count() >= 3, "the lookup read every page");
        var ours = Assert.Single(_aws.InspectorFilters.Values, f => f.Name.StartsWith("coi-", StringComparison.Ordinal));
        var group = await Group(groupId);
        Assert.Equal([ours.Arn], group.Workflow.Suppression!.FilterArns);
        Assert.Equal("1 finding, 1 filter, eu-central-1", group.Workflow.Suppression.Scope);

        _time.Advance(SuppressionWorkflow.SweepDelay + TimeSpan.FromSeconds(1));
        await TestApp.Eventually(async () =>
        {
            await Worker.RunDueAsync(default);
            return (await Audit()).Any(a => a.Action == "suppression_filters_swept");
        }, "sweep ran");
        Assert.Empty(_aws.Server.To("/filters/delete"));
        Assert.Equal(6, _aws.InspectorFilters.Count);
        AssertEveryRequestConformsToTheModel();
    }

    /// <summary>
    /// Production condition: Inspector never answers (every CreateFilter times out and the filter is not
    /// found). The alert is not suppressed, the answer does not claim nothing changed, and the sweep
    /// deletes whatever the lost creates made.
    /// </summary>
    [Fact]
    public async Task FiltersOfAFailedSuppressionAreSweptAway()
    {
        var groupId = await IngestAsync(FindingEvents.Ec2("lost-1", instanceId: "i-0ddddddddddddddd1", updatedAt: _time.GetUtcNow().AddHours(-1)));
        _aws.SlowCreates = SuppressionWorkflow.MaxCreateAttempts;
        _aws.ListFiltersPageSize = 1;
        var listed = false;
        _aws.HideFiltersFromList = () => !listed; // Not yet visible to ListFilters, as an eventually consistent service may be.

        var result = await SuppressAsync(groupId);

        Assert.False(result.Succeeded);
        Assert.DoesNotContain("Nothing was changed", result.Message, StringComparison.Ordinal);
        Assert.Equal(GroupState.New, (await Group(groupId)).Workflow.State);
        Assert.Equal(SuppressionWorkflow.MaxCreateAttempts, _aws.InspectorFilters.Count);

        listed = true;
        _time.Advance(SuppressionWorkflow.SweepDelay + TimeSpan.FromSeconds(1));
        await TestApp.Eventually(async () => { await Worker.RunDueAsync(default); return _aws.InspectorFilters.IsEmpty; }, "orphans deleted");
        Assert.Contains(await Audit(), a => a.Action == "suppression_filters_swept" && a.Detail!.Contains("3 found, 3 not recorded", StringComparison.Ordinal));
        AssertEveryRequestConformsToTheModel();
    }
}
