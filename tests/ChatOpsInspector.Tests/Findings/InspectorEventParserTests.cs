using System.Text;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Tests.Infrastructure;

namespace ChatOpsInspector.Tests.Findings;

public class InspectorEventParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static (IReadOnlyList<InspectorEvent> Events, IReadOnlyList<string> Errors) ParseFixture(string name) =>
        InspectorEventParser.Parse(Encoding.UTF8.GetBytes(FindingEvents.Sample(name)), Now);

    [Fact]
    public void Ec2SampleParsesWithJavaStyleTimestamps()
    {
        var (events, errors) = ParseFixture("finding-ec2-package-vulnerability.json");
        Assert.Empty(errors);
        var f = Assert.Single(events).Finding!;
        Assert.Equal("CVE-2024-29069", f.VulnerabilityId);
        Assert.Equal(Severity.Medium, f.Severity);
        Assert.Equal(FindingStatus.Closed, f.Status);
        Assert.Equal(FindingType.PackageVulnerability, f.Type);
        Assert.Equal(4.8, f.InspectorScore);
        Assert.Equal("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:L", f.Cvss!.Vector);
        Assert.Equal(0.00043, f.Epss);
        Assert.False(f.ExploitAvailable);
        Assert.Equal("YES", f.FixAvailable);
        Assert.Equal(["0:2.63+22.04ubuntu0.1"], f.FixedVersions);
        Assert.Equal("eu-central-1", f.Region);
        Assert.Equal("i-12345678901234567", f.PrimaryResource.Id);
        Assert.True(f.PrimaryResource.IsEc2Instance);
        Assert.Equal("UBUNTU_22_04", f.PrimaryResource.Platform);
        Assert.Equal(new DateTimeOffset(2024, 9, 4, 17, 0, 36, 951, TimeSpan.Zero), f.UpdatedAt);
        Assert.Equal(new DateTimeOffset(2024, 9, 4, 16, 59, 44, 356, TimeSpan.Zero), f.FirstObservedAt);
        Assert.Null(f.Remediation); // "None Provided" is not advice
        Assert.Contains("https://www.cve.org/CVERecord?id=CVE-2024-29069", f.ReferenceUrls);
    }

    [Fact]
    public void EcrSampleWithoutCvssOrScoreParsesAndIgnoresStrayTopLevelKey()
    {
        var (events, errors) = ParseFixture("finding-ecr-package-vulnerability.json");
        Assert.Empty(errors);
        var f = Assert.Single(events).Finding!;
        Assert.Equal("CVE-2024-6119", f.VulnerabilityId);
        Assert.Null(f.InspectorScore);
        Assert.Null(f.Cvss);
        Assert.Equal(2, f.Packages.Count);
        Assert.Equal("AWS_ECR_CONTAINER_IMAGE", f.PrimaryResource.Type);
        Assert.Equal("inspector2", f.PrimaryResource.EcrRepository);
        Assert.Equal(["ubuntu_latest"], f.PrimaryResource.ImageTags);
    }

    [Fact]
    public void LambdaSampleCarriesExploitAndFunctionName()
    {
        var (events, errors) = ParseFixture("finding-lambda-package-vulnerability.json");
        Assert.Empty(errors);
        var f = Assert.Single(events).Finding!;
        Assert.Equal("CVE-2023-30861", f.VulnerabilityId);
        Assert.Equal(Severity.High, f.Severity);
        Assert.True(f.ExploitAvailable);
        Assert.Equal(7.5, f.InspectorScore);
        Assert.NotNull(f.ExploitLastSeenAt);
        Assert.Equal("VulnerableFunction", f.PrimaryResource.LambdaFunction);
    }

    [Theory]
    [InlineData("scan-ec2-initial-scan-complete.json", "Inspector2 Scan")]
    [InlineData("scan-ecr-initial-scan-complete.json", "Inspector2 Scan")]
    [InlineData("coverage-ec2-instance.json", "Inspector2 Coverage")]
    public void ScanAndCoverageEventsAreAcceptedWithoutFinding(string file, string detailType)
    {
        var (events, errors) = ParseFixture(file);
        Assert.Empty(errors);
        var evt = Assert.Single(events);
        Assert.Equal(detailType, evt.DetailType);
        Assert.Null(evt.Finding);
    }

    [Theory]
    [InlineData("list-findings-cli-output-one-ecr-finding.json", 1)]
    [InlineData("list-findings-cli-output-zero.json", 0)]
    public void ListFindingsItemsParseWithIsoTimestamps(string file, int count)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(Fixtures.Read("inspector", file));
        var errors = new List<string>();
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray()
            .Select((f, i) => FindingParser.Parse(f, $"findings[{i}]", errors)).ToList();
        Assert.Empty(errors);
        Assert.Equal(count, findings.Count);
        if (count == 1)
        {
            Assert.Equal("CVE-2021-3744", findings[0]!.VulnerabilityId);
            Assert.Equal(new DateTimeOffset(2024, 2, 2, 15, 30, 33, 45, TimeSpan.Zero), findings[0]!.FirstObservedAt);
        }
    }

    [Fact]
    public void NetworkReachabilityFindingGroupsByProtocolAndPorts()
    {
        var json = """
            {"id":"e1","source":"aws.inspector2","detail-type":"Inspector2 Finding","account":"123456789012","region":"us-east-1",
             "detail":{"findingArn":"arn:aws:inspector2:us-east-1:123456789012:finding/0123456789abcdef0123456789abcdef","awsAccountId":"123456789012",
               "type":"NETWORK_REACHABILITY","severity":"MEDIUM","status":"ACTIVE","title":"Port 22 is reachable from an Internet Gateway",
               "updatedAt":"2024-09-04T17:00:00Z","networkReachabilityDetails":{"protocol":"TCP","openPortRange":{"begin":22,"end":22},
               "networkPath":{"steps":[{"componentId":"igw-1","componentType":"AWS::EC2::InternetGateway"}]}},
               "resources":[{"type":"AWS_EC2_INSTANCE","id":"i-0123456789abcdef0","region":"us-east-1"}]}}
            """;
        var (events, errors) = InspectorEventParser.Parse(Encoding.UTF8.GetBytes(json), Now);
        Assert.Empty(errors);
        var f = events[0].Finding!;
        Assert.Equal(FindingType.NetworkReachability, f.Type);
        Assert.Equal("NETWORK-TCP-22-22", f.VulnerabilityId);
        Assert.Equal("TCP 22", f.Network!.Summary);
    }

    [Fact]
    public void CodeVulnerabilityFindingGroupsByDetector()
    {
        var json = """
            {"id":"e2","source":"aws.inspector2","detail-type":"Inspector2 Finding","account":"123456789012","region":"us-east-1",
             "detail":{"findingArn":"arn:aws:inspector2:us-east-1:123456789012:finding/fedcba9876543210fedcba9876543210","awsAccountId":"123456789012",
               "type":"CODE_VULNERABILITY","severity":"HIGH","status":"ACTIVE","title":"CWE-117 - Log injection",
               "updatedAt":"Wed Sep 04 16:59:44.356 UTC 2024",
               "codeVulnerabilityDetails":{"detectorId":"python/log-injection@v1.0","detectorName":"Log injection","cwes":["CWE-117"],
                 "filePath":{"fileName":"app.py","filePath":"src/app.py","startLine":10,"endLine":12}},
               "resources":[{"type":"AWS_LAMBDA_FUNCTION","id":"arn:aws:lambda:us-east-1:123456789012:function:f","region":"us-east-1",
                 "details":{"awsLambdaFunction":{"functionName":"f"}}}]}}
            """;
        var (events, errors) = InspectorEventParser.Parse(Encoding.UTF8.GetBytes(json), Now);
        Assert.Empty(errors);
        var f = events[0].Finding!;
        Assert.Equal("python/log-injection@v1.0", f.VulnerabilityId);
        Assert.Equal("src/app.py", f.Code!.FilePath);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("42", "must be an EventBridge event object or an array")]
    [InlineData("[]", "holds no events")]
    [InlineData("""{"id":"x","source":"aws.ec2","detail-type":"Inspector2 Finding","detail":{}}""", "account and region are required")]
    [InlineData("""{"id":"x","source":"aws.inspector2","detail-type":"Inspector2 Finding"}""", "$.detail is required")]
    [InlineData("""{"id":7,"source":"aws.inspector2","detail-type":"Inspector2 Finding","detail":{}}""", "$.id must be a string")]
    [InlineData("""{"id":"x","source":"aws.inspector2","detail-type":"Inspector2 Finding","detail":{}}""", "$.detail.findingArn is required")]
    public void BadInputIsRefusedWithThePathOfTheProblem(string body, string expected)
    {
        var (events, errors) = InspectorEventParser.Parse(Encoding.UTF8.GetBytes(body), Now);
        Assert.Empty(events);
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void WrongTypesInsideTheFindingAreNamed()
    {
        var evt = FindingEvents.Ec2("f1");
        evt["detail"]!["inspectorScore"] = "high";
        evt["detail"]!["resources"] = "i-1";
        var (events, errors) = InspectorEventParser.Parse(Encoding.UTF8.GetBytes(evt.ToJsonString()), Now);
        Assert.Empty(events);
        Assert.Contains("$.detail.inspectorScore must be a number, not a string.", errors);
        Assert.Contains("$.detail.resources must be an array, not a string.", errors);
    }

    [Fact]
    public void OneBadEventRejectsTheWholeBatch()
    {
        var good = FindingEvents.Ec2("f1").ToJsonString();
        var (events, errors) = InspectorEventParser.Parse(Encoding.UTF8.GetBytes($"[{good},{{\"id\":\"x\"}}]"), Now);
        Assert.Empty(events);
        Assert.Contains(errors, e => e.StartsWith("$[1]", StringComparison.Ordinal));
    }

    [Fact]
    public void DeeplyNestedJsonIsRefusedNotCrashed()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);
        var (events, errors) = InspectorEventParser.Parse(Encoding.UTF8.GetBytes(deep), Now);
        Assert.Empty(events);
        Assert.Single(errors);
    }
}
