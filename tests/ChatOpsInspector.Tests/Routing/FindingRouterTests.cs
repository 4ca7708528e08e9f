using System.Net;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Tests.Routing;

public class FindingRouterTests
{
    private static FindingRouter Router(params RoutingRule[] rules) => new(
        Options.Create(new RoutingOptions { Rules = [.. rules], Default = new RouteTarget { Owner = "security", Suppressors = ["U_SEC"] } }),
        Options.Create(new Dictionary<string, AccountInfo> { ["111122223333"] = new() { Name = "prod", Environment = "prod" } }));

    private static Finding Finding(string account = "123456789012", string type = ResourceTypes.Ec2Instance, string region = "eu-west-1",
        Dictionary<string, string>? tags = null, string? repo = null, string? lambda = null) => new()
    {
        FindingArn = "arn:f", AwsAccountId = account, Region = region, Type = FindingType.PackageVulnerability, Severity = Severity.Critical,
        Status = FindingStatus.Active, Title = "t", VulnerabilityId = "CVE-1",
        FirstObservedAt = DateTimeOffset.UnixEpoch, LastObservedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        Resources = [new FindingResource { Type = type, Id = "r-1", Region = region, Tags = tags ?? [], EcrRepository = repo, LambdaFunction = lambda }],
    };

    private static RoutingRule Rule(string owner, Action<RoutingRule> configure)
    {
        var rule = new RoutingRule { Target = new RouteTarget { Owner = owner } };
        configure(rule);
        return rule;
    }

    [Fact]
    public void FirstMatchingRuleWins()
    {
        var router = Router(
            Rule("payments", r => r.Tags["app"] = "payments"),
            Rule("anything-tagged", r => r.Tags["app"] = "*"));
        Assert.Equal("payments", router.Route(Finding(tags: new() { ["app"] = "payments" })).Owner);
        Assert.Equal("anything-tagged", router.Route(Finding(tags: new() { ["app"] = "billing" })).Owner);
        Assert.Equal("security", router.Route(Finding()).Owner);
    }

    [Fact]
    public void AllConditionsOfARuleMustHold()
    {
        var router = Router(Rule("eu-images", r =>
        {
            r.Regions.Add("eu-west-1");
            r.ResourceTypes.Add(ResourceTypes.EcrContainerImage);
            r.EcrRepositories.Add("payments-api");
        }));
        Assert.Equal("eu-images", router.Route(Finding(type: ResourceTypes.EcrContainerImage, repo: "payments-api")).Owner);
        Assert.Equal("security", router.Route(Finding(type: ResourceTypes.EcrContainerImage, repo: "other")).Owner);
        Assert.Equal("security", router.Route(Finding(type: ResourceTypes.EcrContainerImage, repo: "payments-api", region: "us-east-1")).Owner);
    }

    [Fact]
    public void LambdaGlobsAndAccountEnvironmentsRoute()
    {
        var router = Router(
            Rule("functions", r => r.LambdaFunctions.Add("payments-*")),
            Rule("prod", r => r.Environments.Add("prod")));
        Assert.Equal("functions", router.Route(Finding(type: ResourceTypes.LambdaFunction, lambda: "payments-refund")).Owner);
        Assert.Equal("security", router.Route(Finding(type: ResourceTypes.LambdaFunction, lambda: "billing-refund")).Owner);
        var prod = router.Route(Finding(account: "111122223333"));
        Assert.Equal("prod", prod.Owner);
        Assert.True(prod.IsProduction);
    }

    [Fact]
    public void OwnersAreFoundByNameIgnoringCase()
    {
        var router = Router(Rule("Payments", r => r.AccountIds.Add("111122223333")));
        Assert.NotNull(router.FindOwner("payments"));
        Assert.Equal("security", router.DefaultOwner.Owner);
        Assert.Null(router.FindOwner("nobody"));
    }

    [Theory]
    [InlineData("Routing:Rules:0:Target:Owner", "x", "has no match condition")]
    [InlineData("Routing:Rules:0:ResourceTypes:0", "AWS_EC2", "unknown resource type 'AWS_EC2'")]
    [InlineData("Routing:Rules:0:AccountIds:0", "12345", "not 12 digits")]
    [InlineData("Routing:Default:Owner", "", "Routing:Default needs an Owner")]
    [InlineData("Routing:Rules:0:Target:SlackChannel", "#payments", "is not a Slack channel id")]
    public async Task InvalidRoutingStopsStartUpNamingTheRule(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Routing:Rules:0:Name"] = "payments",
            ["Routing:Rules:0:Target:Owner"] = "payments",
            ["Routing:Rules:0:Tags:app"] = "payments",
            [key] = value,
        };
        if (key.EndsWith(":Owner", StringComparison.Ordinal) && key.StartsWith("Routing:Rules", StringComparison.Ordinal))
        {
            settings.Remove("Routing:Rules:0:Tags:app");
        }
        await using var app = new TestApp(settings);
        var error = Assert.ThrowsAny<Exception>(() => app.Client());
        var messages = string.Join(" | ", Flatten(error).Select(e => e.Message));
        Assert.Contains(expected, messages, StringComparison.Ordinal);
        Assert.Contains("Routing:", messages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheExampleConfigurationStartsTheBot()
    {
        var path = Path.Combine(Fixtures.FindSolutionDir(), "appsettings.example.json");
        var example = new ConfigurationBuilder().AddJsonFile(path).Build();
        var settings = example.AsEnumerable().Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value);
        settings["State:Redis"] = ""; // the example points at a real Redis; this test only checks binding and validation
        settings["Ingest:ApiKey"] = TestApp.ApiKey;
        await using var app = new TestApp(settings);
        Assert.Equal(HttpStatusCode.OK, (await app.Client().GetAsync("/readyz")).StatusCode);
        var router = app.Service<FindingRouter>();
        Assert.Equal("payments", router.FindOwner("payments")!.Owner);
        Assert.Equal("payments-prod", router.Account("111122223333")!.Name);
    }

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        yield return e;
        if (e is AggregateException agg)
        {
            foreach (var inner in agg.InnerExceptions.SelectMany(Flatten))
            {
                yield return inner;
            }
        }
        else if (e.InnerException is { } inner)
        {
            foreach (var x in Flatten(inner))
            {
                yield return x;
            }
        }
    }
}
