using System.Net;
using System.Text.Json;
using Amazon.Runtime;
using ChatOpsInspector.Aws;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatOpsInspector.Tests.Aws;

public sealed class Inspector2ClientTests : IDisposable
{
    private const string FindingArn = "arn:aws:inspector2:us-east-1:012345678901:finding/00031f625ee77ac186869f906eb73366";
    private const string FilterArn = "arn:aws:inspector2:eu-west-1:111122223333:owner/111122223333/filter/4a3b2c1d";

    private static readonly string OneFinding = Fixtures.Read("inspector", "list-findings-cli-output-one-ecr-finding.json");
    private static readonly string NoFindings = Fixtures.Read("inspector", "list-findings-cli-output-zero.json");

    private readonly List<IHost> hosts = [];

    public void Dispose()
    {
        foreach (var host in hosts)
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task ListFindingsPostsFilterCriteriaAndReadsTheFindings()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, OneFinding, "req-list-1"));
        var client = ClientFor(server, out _);

        var page = await client.ListFindingsAsync(new ListFindingsRequest
        {
            FilterCriteria = new FindingFilterCriteria
            {
                VulnerabilityId = [StringFilter.EqualTo("CVE-2021-3744")],
                FindingStatus = [StringFilter.EqualTo("ACTIVE")],
                AwsAccountId = [StringFilter.EqualTo("012345678901")],
            },
            MaxResults = 50,
        });

        var request = Assert.Single(server.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/findings/list", request.Path);
        Assert.Equal("application/json", request.Header("Content-Type"));
        var body = request.Json;
        Assert.Equal(50, body.GetProperty("maxResults").GetInt32());
        Assert.False(body.TryGetProperty("nextToken", out _));
        var criteria = body.GetProperty("filterCriteria");
        AssertStringFilter(criteria, "vulnerabilityId", "EQUALS", "CVE-2021-3744");
        AssertStringFilter(criteria, "findingStatus", "EQUALS", "ACTIVE");
        AssertStringFilter(criteria, "awsAccountId", "EQUALS", "012345678901");
        Assert.Equal(3, criteria.EnumerateObject().Count());

        Assert.Equal("req-list-1", page.RequestId);
        Assert.Null(page.NextToken);
        var finding = Assert.Single(page.Items);
        Assert.Equal(FindingArn, finding.FindingArn);
        Assert.Equal("ACTIVE", finding.Status);
        Assert.Equal("MEDIUM", finding.Severity);
        Assert.Equal(5.5, finding.InspectorScore);
        Assert.Equal(DateTimeOffset.Parse("2024-06-14T02:03:53.051Z", System.Globalization.CultureInfo.InvariantCulture), finding.UpdatedAt);
        Assert.Equal("CVE-2021-3744", finding.VulnerabilityId);
        Assert.Equal("0:4.19.232-1", Assert.Single(finding.PackageVulnerabilityDetails!.VulnerablePackages).FixedInVersion);
        var resource = Assert.Single(finding.Resources);
        Assert.Equal("AWS_ECR_CONTAINER_IMAGE", resource.Type);
        Assert.Equal(
            "arn:aws:ecr:us-east-1:012345678901:repository/my-awesome-docker-image/sha256:c667ad018b538adadb5bd1db75836c8561b23bc7d31d9cd8941fa74f5df93802",
            Assert.Single(finding.ResourceIds));
    }

    [Fact]
    public async Task RequestsAreSigV4SignedForInspector2InTheConfiguredRegion()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, NoFindings, "req-sig"));
        var client = ClientFor(server, out _);

        await client.ListFindingsAsync(new ListFindingsRequest());

        var request = Assert.Single(server.Requests);
        var credential = SigV4Verification.AssertValidSignature(request, AwsTestHost.SecretKey);
        Assert.Equal(AwsTestHost.AccessKey, credential.AccessKey);
        Assert.Equal("inspector2", credential.Service);
        Assert.Equal(AwsTestHost.Region, credential.Region);
        Assert.Equal(AwsTestHost.SessionToken, request.Header("X-Amz-Security-Token"));
        Assert.Contains("x-amz-security-token", credential.SignedHeaders.Split(';'));
        Assert.Contains("host", credential.SignedHeaders.Split(';'));
    }

    [Fact]
    public async Task ListingAllFindingsFollowsNextTokenToTheLastPage()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
        {
            var page = request.Json.TryGetProperty("nextToken", out var token) ? token.GetString() : null;
            return page switch
            {
                null => FakeAwsServer.Reply(response, 200, WithNextToken(OneFinding, "page-2"), "req-p1"),
                "page-2" => FakeAwsServer.Reply(response, 200, WithNextToken(OneFinding, "page-3"), "req-p2"),
                _ => FakeAwsServer.Reply(response, 200, NoFindings, "req-p3"),
            };
        });
        var client = ClientFor(server, out _);
        var criteria = new FindingFilterCriteria { Severity = [StringFilter.EqualTo("CRITICAL")] };

        var pages = new List<Inspector2Page<Inspector2Finding>>();
        await foreach (var page in client.ListAllFindingsAsync(new ListFindingsRequest { FilterCriteria = criteria, MaxResults = 100 }))
        {
            pages.Add(page);
        }

        Assert.Equal(["req-p1", "req-p2", "req-p3"], pages.Select(p => p.RequestId));
        Assert.Equal(2, pages.Sum(p => p.Items.Count));
        var bodies = server.Requests.Select(r => r.Json).ToList();
        Assert.Equal(3, bodies.Count);
        Assert.False(bodies[0].TryGetProperty("nextToken", out _));
        Assert.Equal("page-2", bodies[1].GetProperty("nextToken").GetString());
        Assert.Equal("page-3", bodies[2].GetProperty("nextToken").GetString());
        Assert.All(bodies, b => AssertStringFilter(b.GetProperty("filterCriteria"), "severity", "EQUALS", "CRITICAL"));
        Assert.All(bodies, b => Assert.Equal(100, b.GetProperty("maxResults").GetInt32()));
    }

    [Fact]
    public async Task CreateFilterSendsASuppressionRuleAndReturnsItsArn()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) =>
            FakeAwsServer.Reply(response, 200, $$"""{"arn":"{{FilterArn}}"}""", "req-create"));
        var client = ClientFor(server, out _);

        var created = await client.CreateFilterAsync(new CreateFilterRequest
        {
            Name = "coi-CVE-2021-3744-i-0abc",
            Description = "Suppressed from Slack by U024BE7LH",
            Reason = "Compensating control: not reachable",
            FilterCriteria = new FindingFilterCriteria
            {
                VulnerabilityId = [StringFilter.EqualTo("CVE-2021-3744")],
                ResourceId = [StringFilter.EqualTo("i-0abcdef1234567890")],
            },
            Tags = new Dictionary<string, string> { ["ManagedBy"] = "ChatOpsInspector" },
        });

        Assert.Equal(FilterArn, created.Arn);
        Assert.Equal("req-create", created.RequestId);
        var request = Assert.Single(server.Requests);
        Assert.Equal("/filters/create", request.Path);
        var body = request.Json;
        Assert.Equal("SUPPRESS", body.GetProperty("action").GetString());
        Assert.Equal("coi-CVE-2021-3744-i-0abc", body.GetProperty("name").GetString());
        Assert.Equal("Suppressed from Slack by U024BE7LH", body.GetProperty("description").GetString());
        Assert.Equal("Compensating control: not reachable", body.GetProperty("reason").GetString());
        Assert.Equal("ChatOpsInspector", body.GetProperty("tags").GetProperty("ManagedBy").GetString());
        AssertStringFilter(body.GetProperty("filterCriteria"), "vulnerabilityId", "EQUALS", "CVE-2021-3744");
        AssertStringFilter(body.GetProperty("filterCriteria"), "resourceId", "EQUALS", "i-0abcdef1234567890");
    }

    [Fact]
    public async Task CreateFilterRefusesCriteriaThatWouldSuppressEverything()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, "{}", "unused"));
        var client = ClientFor(server, out _);

        await Assert.ThrowsAsync<ArgumentException>(() => client.CreateFilterAsync(new CreateFilterRequest
        {
            Name = "everything",
            FilterCriteria = new FindingFilterCriteria { VulnerabilityId = [] },
        }));

        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task DeleteFilterPostsTheArn()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) =>
            FakeAwsServer.Reply(response, 200, $$"""{"arn":"{{FilterArn}}"}""", "req-delete"));
        var client = ClientFor(server, out _);

        var deleted = await client.DeleteFilterAsync(FilterArn);

        var request = Assert.Single(server.Requests);
        Assert.Equal("/filters/delete", request.Path);
        Assert.Equal(FilterArn, request.Json.GetProperty("arn").GetString());
        Assert.Single(request.Json.EnumerateObject());
        Assert.Equal(new FilterOperationResult(FilterArn, "req-delete"), deleted);
    }

    [Fact]
    public async Task ListFiltersSendsActionAndArnsAndReadsEpochTimestamps()
    {
        const string filters = $$$"""
            {"filters":[{"action":"SUPPRESS","arn":"{{{FilterArn}}}","createdAt":1718330633.051,"updatedAt":1718330633.051,
              "criteria":{"vulnerabilityId":[{"comparison":"EQUALS","value":"CVE-2021-3744"}]},
              "name":"coi-CVE-2021-3744","ownerId":"111122223333","reason":"accepted risk","tags":{"ManagedBy":"ChatOpsInspector"}}],
             "nextToken":"more"}
            """;
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, filters, "req-filters"));
        var client = ClientFor(server, out _);

        var page = await client.ListFiltersAsync(new ListFiltersRequest { Action = FilterAction.Suppress, Arns = [FilterArn], MaxResults = 10 });

        var request = Assert.Single(server.Requests);
        Assert.Equal("/filters/list", request.Path);
        Assert.Equal("SUPPRESS", request.Json.GetProperty("action").GetString());
        Assert.Equal(FilterArn, Assert.Single(request.Json.GetProperty("arns").EnumerateArray()).GetString());
        Assert.Equal(10, request.Json.GetProperty("maxResults").GetInt32());
        Assert.Equal("more", page.NextToken);
        var filter = Assert.Single(page.Items);
        Assert.Equal(FilterArn, filter.Arn);
        Assert.Equal("SUPPRESS", filter.Action);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_718_330_633_051), filter.CreatedAt);
        Assert.Equal("CVE-2021-3744", Assert.Single(filter.Criteria!.VulnerabilityId!).Value);
    }

    [Fact]
    public async Task ListCoverageReadsScanStatusAndEc2Details()
    {
        const string coverage = """
            {"coveredResources":[{"accountId":"111122223333","resourceId":"i-087d63509b8c97098","resourceType":"AWS_EC2_INSTANCE",
              "scanType":"PACKAGE","scanMode":"EC2_SSM_AGENT_BASED","lastScannedAt":1674255095,
              "scanStatus":{"statusCode":"INACTIVE","reason":"UNMANAGED_EC2_INSTANCE"},
              "resourceMetadata":{"ec2":{"amiId":"ami-0abcdef1234567890","platform":"LINUX","tags":{"Owner":"payments"}}}}]}
            """;
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, coverage, "req-coverage"));
        var client = ClientFor(server, out _);

        var page = await client.ListCoverageAsync(new ListCoverageRequest
        {
            FilterCriteria = new CoverageFilterCriteria { ResourceId = [CoverageStringFilter.EqualTo("i-087d63509b8c97098")] },
            MaxResults = 200,
        });

        var request = Assert.Single(server.Requests);
        Assert.Equal("/coverage/list", request.Path);
        AssertStringFilter(request.Json.GetProperty("filterCriteria"), "resourceId", "EQUALS", "i-087d63509b8c97098");
        var resource = Assert.Single(page.Items);
        Assert.Equal("i-087d63509b8c97098", resource.ResourceId);
        Assert.Equal("AWS_EC2_INSTANCE", resource.ResourceType);
        Assert.Equal("111122223333", resource.AccountId);
        Assert.Equal(new ScanStatus("INACTIVE", "UNMANAGED_EC2_INSTANCE"), resource.ScanStatus);
        Assert.Equal("ami-0abcdef1234567890", resource.ResourceMetadata!.Ec2!.AmiId);
        Assert.Equal("payments", resource.ResourceMetadata.Ec2.Tags!["Owner"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_674_255_095), resource.LastScannedAt);
        Assert.Equal("req-coverage", page.RequestId);
    }

    [Fact]
    public async Task ThrottlingIsRetriedAfterTheServersRetryAfterThenSucceeds()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) => request.Sequence == 1
            ? FakeAwsServer.Reply(response, 429, """{"message":"Rate exceeded"}""", "req-throttled", headers:
                [("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/"), ("Retry-After", "2")])
            : FakeAwsServer.Reply(response, 200, OneFinding, "req-ok"));
        var client = ClientFor(server, out var time);

        var page = await client.ListFindingsAsync(new ListFindingsRequest());

        Assert.Equal("req-ok", page.RequestId);
        Assert.Equal(2, server.Requests.Count);
        Assert.Equal([TimeSpan.FromSeconds(2)], time.Delays);
        Assert.All(server.Requests, r => SigV4Verification.AssertValidSignature(r, AwsTestHost.SecretKey));
    }

    [Fact]
    public async Task ThrottlingWithARetryAfterBeyondTheCapFailsAtOnceInsteadOfWaiting()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) =>
            FakeAwsServer.Reply(response, 429, """{"message":"Rate exceeded"}""", "req-throttled", headers:
                [("x-amzn-ErrorType", "ThrottlingException"), ("Retry-After", "120")]));
        var client = ClientFor(server, out var time);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.ListFindingsAsync(new ListFindingsRequest()));

        Assert.Equal(AwsErrorKind.Throttling, error.Kind);
        Assert.Equal(TimeSpan.FromSeconds(120), error.RetryAfter);
        Assert.Single(server.Requests);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public async Task ADroppedConnectionOnAListingIsRetried()
    {
        await using var server = await FakeAwsServer.StartAsync((request, response) =>
        {
            if (request.Sequence == 1)
            {
                response.HttpContext.Abort();
                return Task.CompletedTask;
            }

            return FakeAwsServer.Reply(response, 200, NoFindings, "req-after-drop");
        });
        var client = ClientFor(server, out var time);

        var page = await client.ListFindingsAsync(new ListFindingsRequest());

        Assert.Equal("req-after-drop", page.RequestId);
        Assert.Equal(2, server.Requests.Count);
        Assert.Single(time.Delays);
    }

    [Fact]
    public async Task ServerErrorsAreRetriedWithGrowingBackoffUntilAttemptsRunOut()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) =>
            FakeAwsServer.Reply(response, 500, """{"message":"Internal failure"}""", "req-500", headers: [("x-amzn-ErrorType", "InternalServerException")]));
        var client = ClientFor(server, out var time);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.ListCoverageAsync(new ListCoverageRequest()));

        Assert.Equal(AwsErrorKind.ServerError, error.Kind);
        Assert.Equal("InternalServerException", error.ErrorCode);
        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Equal(Inspector2Client.MaxAttempts, server.Requests.Count);
        Assert.Equal(Inspector2Client.MaxAttempts - 1, time.Delays.Count);
        for (var attempt = 1; attempt <= time.Delays.Count; attempt++)
        {
            var step = Inspector2Client.BaseDelay * Math.Pow(2, attempt - 1);
            Assert.InRange(time.Delays[attempt - 1], step / 2, step);
        }
    }

    [Fact]
    public async Task AccessDeniedIsNotRetriedAndCarriesCodeStatusAndRequestId()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 403,
            """{"message":"User: arn:aws:sts::111122223333:assumed-role/bot is not authorized to perform: inspector2:CreateFilter"}""",
            "req-denied", headers: [("x-amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.coral.service/")]));
        var client = ClientFor(server, out var time);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.CreateFilterAsync(new CreateFilterRequest
        {
            Name = "coi-test",
            FilterCriteria = new FindingFilterCriteria { FindingArn = [StringFilter.EqualTo(FindingArn)] },
        }));

        Assert.Single(server.Requests);
        Assert.Empty(time.Delays);
        Assert.Equal(AwsErrorKind.AccessDenied, error.Kind);
        Assert.Equal("AccessDeniedException", error.ErrorCode);
        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal("req-denied", error.RequestId);
        Assert.Equal("CreateFilter", error.Operation);
        Assert.Contains("not authorized", error.ServiceMessage, StringComparison.Ordinal);
        Assert.False(error.IsRetryable);
    }

    [Fact]
    public async Task ValidationErrorCodeIsTakenFromTheBodyTypeWhenTheHeaderIsAbsent()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 400,
            """{"__type":"com.amazonaws.inspector2#ValidationException","message":"maxResults must be less than or equal to 100","reason":"FIELD_VALIDATION_FAILED"}""",
            "req-invalid"));
        var client = ClientFor(server, out _);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.ListFindingsAsync(new ListFindingsRequest()));

        Assert.Single(server.Requests);
        Assert.Equal(AwsErrorKind.Validation, error.Kind);
        Assert.Equal("ValidationException", error.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("req-invalid", error.RequestId);
    }

    [Fact]
    public async Task DeletingAMissingFilterSurfacesResourceNotFound()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 404,
            """{"message":"Filter not found"}""", "req-404", headers: [("x-amzn-ErrorType", "ResourceNotFoundException")]));
        var client = ClientFor(server, out _);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.DeleteFilterAsync(FilterArn));

        Assert.Single(server.Requests);
        Assert.Equal(AwsErrorKind.ResourceNotFound, error.Kind);
        Assert.Equal("ResourceNotFoundException", error.ErrorCode);
    }

    [Fact]
    public async Task CreateFilterIsNotRetriedOnAServerErrorSoNoDuplicateRuleAppears()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) =>
            FakeAwsServer.Reply(response, 500, """{"message":"Internal failure"}""", "req-500", headers: [("x-amzn-ErrorType", "InternalServerException")]));
        var client = ClientFor(server, out var time);

        var error = await Assert.ThrowsAsync<AwsServiceException>(() => client.CreateFilterAsync(new CreateFilterRequest
        {
            Name = "coi-test",
            FilterCriteria = new FindingFilterCriteria { FindingArn = [StringFilter.EqualTo(FindingArn)] },
        }));

        Assert.Equal(AwsErrorKind.ServerError, error.Kind);
        Assert.Single(server.Requests);
        Assert.Empty(time.Delays);
    }

    [Fact]
    public async Task MissingCredentialsFailAtCallTimeNotAtStartUp()
    {
        await using var server = await FakeAwsServer.StartAsync((_, response) => FakeAwsServer.Reply(response, 200, NoFindings, "unused"));
        using var host = AwsTestHost.Build(
            new Dictionary<string, string?> { ["Aws:Region"] = AwsTestHost.Region, ["Aws:Inspector2:ServiceUrl"] = server.BaseUri.ToString() },
            services: s => s.AddSingleton(new AwsCredentialsProvider(
                _ => throw new AmazonClientException("Failed to resolve AWS credentials."),
                NullLogger<AwsCredentialsProvider>.Instance)));
        await host.StartAsync();

        var client = host.Services.GetRequiredService<IInspector2Client>();
        var error = await Assert.ThrowsAsync<AwsCredentialsUnavailableException>(() => client.ListFindingsAsync(new ListFindingsRequest()));

        Assert.IsType<AmazonClientException>(error.InnerException);
        Assert.Empty(server.Requests);
        await host.StopAsync();
    }

    [Fact]
    public void EndpointDefaultsToTheRegionalInspector2Endpoint()
    {
        Assert.Equal(new Uri("https://inspector2.eu-west-1.amazonaws.com/"), new AwsOptions().Inspector2EndpointFor("eu-west-1"));
        Assert.Equal(new Uri("https://inspector2.cn-north-1.amazonaws.com.cn/"), new AwsOptions().Inspector2EndpointFor("cn-north-1"));
        Assert.Equal(
            new Uri("http://127.0.0.1:8080/inspector/findings/list"),
            new Uri(new AwsOptions { Inspector2 = { ServiceUrl = "http://127.0.0.1:8080/inspector" } }.Inspector2EndpointFor("eu-west-1"), "findings/list"));
    }

    private IInspector2Client ClientFor(FakeAwsServer server, out InstantDelays time)
    {
        time = new InstantDelays();
        var host = AwsTestHost.Build(
            new Dictionary<string, string?> { ["Aws:Region"] = AwsTestHost.Region, ["Aws:Inspector2:ServiceUrl"] = server.BaseUri.ToString() },
            time);
        hosts.Add(host);
        return host.Services.GetRequiredService<IInspector2Client>();
    }

    private static void AssertStringFilter(JsonElement criteria, string field, string comparison, string value)
    {
        var filter = Assert.Single(criteria.GetProperty(field).EnumerateArray());
        Assert.Equal(comparison, filter.GetProperty("comparison").GetString());
        Assert.Equal(value, filter.GetProperty("value").GetString());
        Assert.Equal(2, filter.EnumerateObject().Count());
    }

    private static string WithNextToken(string listFindingsJson, string token)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(listFindingsJson)!;
        node["nextToken"] = token;
        return node.ToJsonString();
    }
}
