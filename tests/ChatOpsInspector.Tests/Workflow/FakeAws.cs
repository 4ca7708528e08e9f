using Microsoft.Extensions.DependencyInjection;
using Amazon.Runtime;
using System.Collections.Concurrent;
using System.Net;
using System.Security;
using System.Text;
using System.Text.Json;
using ChatOpsInspector.Tests.Aws;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// Fake Inspector2 (REST), SSM (JSON 1.1) and STS (query protocol) on one loopback server. Like AWS,
/// it recomputes every request's SigV4 signature from the secret of the key id it names and answers
/// 403 when it does not match; it enforces the SSM list limits of the published API model.
/// </summary>
public sealed partial class FakeAws : IAsyncDisposable
{
    /// <summary>botocore ssm/2014-11-06 service-2.json: InstanceIdList max 50 (SendCommand.InstanceIds).</summary>
    public const int SendCommandMaxInstances = 50;

    /// <summary>botocore ssm: InstanceInformationFilterValueSet max 100; MaxResultsEC2Compatible 5..50.</summary>
    public const int DescribeMaxFilterValues = 100;
    public const int DescribeMaxResults = 50;

    /// <summary>botocore ssm: AutomationExecutionFilterValueList max 10, AutomationExecutionFilterList max 10, MaxResults 1..50.</summary>
    public const int AutomationFilterMaxValues = 10;
    public const int AutomationMaxResults = 50;

    /// <summary>botocore ssm: AutomationExecutionFilterKey enum.</summary>
    public static readonly IReadOnlySet<string> AutomationFilterKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "DocumentNamePrefix", "ExecutionStatus", "ExecutionId", "ParentExecutionId", "CurrentAction", "StartTimeBefore",
        "StartTimeAfter", "AutomationType", "TagKey", "TargetResourceGroup", "AutomationSubtype", "OpsItemId",
    };

    public const string OwnAccount = "111122223333";

    private int _commands;
    private int _sessions;

    public FakeServer Server { get; private set; } = null!;

    /// <summary>Access key id → secret; requests signed with anything else are refused like AWS does.</summary>
    public ConcurrentDictionary<string, string> Secrets { get; } = new();

    /// <summary>Access key id → the account it acts in.</summary>
    public ConcurrentDictionary<string, string> KeyAccounts { get; } = new();

    /// <summary>Instances DescribeInstanceInformation reports as managed, with their ping status.</summary>
    public ConcurrentDictionary<string, string> ManagedInstances { get; } = new();

    /// <summary>Instance → account; an instance listed here is visible only to credentials of that account.</summary>
    public ConcurrentDictionary<string, string> InstanceAccounts { get; } = new();

    /// <summary>instance id → SSM invocation status returned by ListCommandInvocations (unlisted: not reported yet).</summary>
    public ConcurrentDictionary<string, string> InvocationStatus { get; } = new();

    /// <summary>Command id → the instance ids SendCommand received.</summary>
    public ConcurrentDictionary<string, string[]> Commands { get; } = new();

    /// <summary>Every verified request: operation, access key, signing region and service.</summary>
    public ConcurrentQueue<SignedCall> Signed { get; } = new();

    /// <summary>Every request refused for its signature, with the reason.</summary>
    public ConcurrentQueue<string> Rejected { get; } = new();

    /// <summary>What ListCoverage answers (Inspector2 <c>coveredResources</c> items), in one page.</summary>
    public ConcurrentQueue<object> CoveredResources { get; } = new();

    /// <summary>When set, SendCommand answers this AWS error code with HTTP 400.</summary>
    public string? SendCommandError { get; set; }

    /// <summary>When set, SendCommand fails with it for instances of this account only.</summary>
    public string? SendCommandErrorForAccount { get; set; }

    /// <summary>Every StartAutomationExecution: execution id → what was started, and by which account.</summary>
    public ConcurrentDictionary<string, AutomationRun> Automations { get; } = new();

    /// <summary>Execution id → AutomationExecutionStatus DescribeAutomationExecutions reports (unset: InProgress).</summary>
    public ConcurrentDictionary<string, string> AutomationStatus { get; } = new();

    /// <summary>How long every SSM call waits before it answers (a slow or distant endpoint).</summary>
    public TimeSpan SsmDelay { get; set; }

    public sealed record AutomationRun(string ExecutionId, string Document, IReadOnlyDictionary<string, string[]> Parameters, string? ClientToken, string Account, string Region);

    /// <summary>The web identity token AssumeRoleWithWebIdentity accepts.</summary>
    public string? WebIdentityToken { get; set; }

    public sealed record SignedCall(string Operation, string AccessKey, string Region, string Service);

    public sealed record StsCall(string Action, IReadOnlyDictionary<string, string> Form);

    public ConcurrentQueue<StsCall> StsCalls { get; } = new();

    public void AddKey(string accessKey, string secret, string account = OwnAccount)
    {
        Secrets[accessKey] = secret;
        KeyAccounts[accessKey] = account;
    }

    /// <summary>Key pairs the test hosts sign with; the fake knows their secrets as AWS would.</summary>
    public static readonly IReadOnlyDictionary<string, string> TestKeys = new Dictionary<string, string>
    {
        ["AKIDTESTREMEDIATION1"] = "secret/for/the/fake",
        ["AKIDENDTOENDSLACK001"] = "secret/for/the/fake",
        ["AKIDENDTOENDTEAMS001"] = "secret/for/the/fake",
        ["AKIDCROSSPLATFORM01"] = "secret/for/the/fake",
        ["AKIDSLACKAPPTESTS01"] = "secret/for/the/fake",
        ["AKIDTEAMSCARDACTION1"] = "secret/for/the/fake",
        ["AKIDTEAMSSUPPRESS01"] = "secret/for/the/fake",
        ["AKIDPLAYGROUNDE2E01"] = "secret/for/the/fake",
    };

    public static async Task<FakeAws> StartAsync()
    {
        var fake = new FakeAws();
        foreach (var (key, secret) in TestKeys)
        {
            fake.AddKey(key, secret);
        }
        fake.Server = await FakeServer.StartAsync((app, _) =>
        {
            app.Use(async (http, next) =>
            {
                var form = http.Request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.Ordinal) == true;
                http.Request.EnableBuffering();
                using var buffer = new MemoryStream();
                await http.Request.Body.CopyToAsync(buffer);
                http.Request.Body.Position = 0;
                var body = buffer.ToArray();
                var operation = http.Request.Headers["X-Amz-Target"].ToString() is { Length: > 0 } target ? target : http.Request.Path.ToString();
                if (form && Encoding.UTF8.GetString(body).Contains("Action=AssumeRoleWithWebIdentity", StringComparison.Ordinal))
                {
                    await next(); // Unsigned by design: the web identity token is the credential.
                    return;
                }
                var raw = http.Features.Get<IHttpRequestFeature>()!.RawTarget;
                var (credential, error) = SigV4Verification.Verify(http.Request.Method, raw.Split('?', 2)[0], raw.Contains('?') ? raw.Split('?', 2)[1] : "",
                    http.Request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? ""))), body,
                    key => fake.Secrets.TryGetValue(key, out var secret) ? secret : null);
                if (error is not null)
                {
                    fake.Rejected.Enqueue($"{operation}: {error}");
                    http.Response.StatusCode = 403;
                    http.Response.Headers["x-amzn-ErrorType"] = error.Split(':')[0];
                    await http.Response.WriteAsJsonAsync(new Dictionary<string, string> { ["__type"] = error.Split(':')[0], ["message"] = error });
                    return;
                }
                fake.Signed.Enqueue(new SignedCall(operation, credential!.AccessKey, credential.Region, credential.Service));
                http.Items["account"] = fake.KeyAccounts.TryGetValue(credential.AccessKey, out var account) ? account : OwnAccount;
                http.Items["region"] = credential.Region;
                if (fake.SsmDelay > TimeSpan.Zero && operation.StartsWith("AmazonSSM.", StringComparison.Ordinal))
                {
                    await Task.Delay(fake.SsmDelay, http.RequestAborted);
                }
                await next();
            });
            app.MapPost("/filters/create", (Func<HttpContext, Task<IResult>>)fake.CreateFilterAsync);
            app.MapPost("/filters/list", (Func<HttpContext, Task<IResult>>)fake.ListFiltersAsync);
            app.MapPost("/coverage/list", (HttpContext http) =>
            {
                http.Response.Headers["x-amzn-RequestId"] = "req-coverage";
                return Results.Json(new { coveredResources = fake.CoveredResources.ToArray() });
            });
            app.MapPost("/filters/delete", (Func<HttpContext, Task<IResult>>)fake.DeleteFilterAsync);
            app.MapPost("/", async (HttpContext http) =>
            {
                if (http.Request.HasFormContentType)
                {
                    return await fake.StsAsync(http);
                }
                var target = http.Request.Headers["X-Amz-Target"].ToString();
                using var doc = await JsonDocument.ParseAsync(http.Request.Body);
                http.Response.Headers["x-amzn-RequestId"] = "req-" + target;
                var caller = (string)http.Items["account"]!;
                return target switch
                {
                    "AmazonSSM.DescribeInstanceInformation" => fake.DescribeInstanceInformation(doc.RootElement, caller),
                    "AmazonSSM.SendCommand" => fake.SendCommand(doc.RootElement, caller),
                    "AmazonSSM.ListCommandInvocations" => fake.ListCommandInvocations(doc.RootElement),
                    "AmazonSSM.StartAutomationExecution" => fake.StartAutomationExecution(doc.RootElement, caller, (string)http.Items["region"]!),
                    "AmazonSSM.DescribeAutomationExecutions" => fake.DescribeAutomationExecutions(doc.RootElement, caller),
                    _ => Json(new Dictionary<string, string> { ["__type"] = "UnknownOperationException" }, 400),
                };
            });
        });
        return fake;
    }

    private bool Visible(string instance, string caller) =>
        !InstanceAccounts.TryGetValue(instance, out var account) || account == caller;

    private IResult DescribeInstanceInformation(JsonElement request, string caller)
    {
        var maxResults = request.TryGetProperty("MaxResults", out var max) ? max.GetInt32() : DescribeMaxResults;
        if (maxResults is < 5 or > DescribeMaxResults)
        {
            return Validation($"Value '{maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 5 and 50");
        }
        var wanted = ManagedInstances.Keys.ToHashSet();
        if (request.TryGetProperty("Filters", out var filters))
        {
            foreach (var filter in filters.EnumerateArray())
            {
                var values = filter.GetProperty("Values").EnumerateArray().Select(v => v.GetString()!).ToArray();
                if (values.Length is < 1 or > DescribeMaxFilterValues)
                {
                    return Validation($"Value at 'filters.1.member.values' failed to satisfy constraint: Member must have length less than or equal to {DescribeMaxFilterValues}");
                }
                wanted.IntersectWith(values);
            }
        }
        var all = ManagedInstances.Where(m => wanted.Contains(m.Key) && Visible(m.Key, caller)).OrderBy(m => m.Key, StringComparer.Ordinal).ToArray();
        var start = request.TryGetProperty("NextToken", out var token) ? int.Parse(token.GetString()!.TrimStart('p'), System.Globalization.CultureInfo.InvariantCulture) : 0;
        var page = all.Skip(start).Take(maxResults)
            .Select(m => new Dictionary<string, object> { ["InstanceId"] = m.Key, ["PingStatus"] = m.Value, ["PlatformType"] = "Linux" });
        var next = start + maxResults < all.Length ? "p" + (start + maxResults) : null;
        return Json(next is null ? new { InstanceInformationList = page } : new { InstanceInformationList = page, NextToken = next });
    }

    private IResult SendCommand(JsonElement request, string caller)
    {
        var error = SendCommandError ?? (SendCommandErrorForAccount == caller ? "AccessDeniedException" : null);
        if (error is not null)
        {
            return Json(new Dictionary<string, string> { ["__type"] = error, ["message"] = "Instances not in a valid state" }, 400);
        }
        var ids = request.GetProperty("InstanceIds").EnumerateArray().Select(v => v.GetString()!).ToArray();
        if (ids.Length > SendCommandMaxInstances)
        {
            return Validation($"Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to {SendCommandMaxInstances}");
        }
        if (ids.FirstOrDefault(id => !Visible(id, caller)) is { } foreign)
        {
            return Json(new Dictionary<string, string> { ["__type"] = "InvalidInstanceId", ["message"] = $"{foreign} is not in this account" }, 400);
        }
        var id = "cmd-" + Interlocked.Increment(ref _commands);
        Commands[id] = ids;
        return Json(new { Command = new { CommandId = id, Status = "Pending", InstanceIds = ids } });
    }

    private IResult ListCommandInvocations(JsonElement request)
    {
        var commandId = request.GetProperty("CommandId").GetString()!;
        var instances = Commands.TryGetValue(commandId, out var sent) ? sent : InvocationStatus.Keys.ToArray();
        return Json(new
        {
            CommandInvocations = instances.Where(InvocationStatus.ContainsKey)
                .Select(i => new { InstanceId = i, Status = InvocationStatus[i], CommandId = commandId }),
        });
    }

    private IResult StartAutomationExecution(JsonElement request, string caller, string region)
    {
        var document = request.TryGetProperty("DocumentName", out var d) ? d.GetString() : null;
        if (string.IsNullOrEmpty(document))
        {
            return Validation("Value null at 'documentName' failed to satisfy constraint: Member must not be null");
        }
        var parameters = request.TryGetProperty("Parameters", out var p)
            ? p.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.EnumerateArray().Select(v => v.GetString()!).ToArray(), StringComparer.Ordinal)
            : new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (parameters.Count is < 1 or > 200 || parameters.Any(kv => kv.Key.Length is < 1 or > 50 || kv.Value.Length > 50))
        {
            return Validation("Value at 'parameters' failed to satisfy constraint: AutomationParameterMap");
        }
        var token = request.TryGetProperty("ClientToken", out var t) ? t.GetString() : null;
        if (token is not null && Automations.Values.FirstOrDefault(a => a.ClientToken == token) is { } same)
        {
            return Json(new { AutomationExecutionId = same.ExecutionId });
        }
        var id = Guid.NewGuid().ToString("D"); // AutomationExecutionId: exactly 36 characters.
        Automations[id] = new AutomationRun(id, document, parameters, token, caller, region);
        return Json(new { AutomationExecutionId = id });
    }

    private IResult DescribeAutomationExecutions(JsonElement request, string caller)
    {
        var maxResults = request.TryGetProperty("MaxResults", out var max) ? max.GetInt32() : AutomationMaxResults;
        if (maxResults is < 1 or > AutomationMaxResults)
        {
            return Validation($"Value '{maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50");
        }
        IEnumerable<AutomationRun> runs = Automations.Values.Where(a => a.Account == caller);
        if (request.TryGetProperty("Filters", out var filters))
        {
            if (filters.GetArrayLength() is < 1 or > 10)
            {
                return Validation("Value at 'filters' failed to satisfy constraint: Member must have length between 1 and 10");
            }
            foreach (var filter in filters.EnumerateArray())
            {
                var key = filter.GetProperty("Key").GetString()!;
                var values = filter.GetProperty("Values").EnumerateArray().Select(v => v.GetString()!).ToHashSet(StringComparer.Ordinal);
                if (!AutomationFilterKeys.Contains(key) || values.Count is < 1 or > AutomationFilterMaxValues)
                {
                    return Validation($"Value at 'filters.1.member.values' failed to satisfy constraint: Member must have length less than or equal to {AutomationFilterMaxValues}");
                }
                if (key == "ExecutionId")
                {
                    runs = runs.Where(r => values.Contains(r.ExecutionId));
                }
            }
        }
        var all = runs.OrderBy(r => r.ExecutionId, StringComparer.Ordinal).ToArray();
        var start = request.TryGetProperty("NextToken", out var token) ? int.Parse(token.GetString()!.TrimStart('p'), System.Globalization.CultureInfo.InvariantCulture) : 0;
        var page = all.Skip(start).Take(maxResults).Select(r =>
        {
            var status = AutomationStatus.GetValueOrDefault(r.ExecutionId, "InProgress");
            return new Dictionary<string, object?>
            {
                ["AutomationExecutionId"] = r.ExecutionId,
                ["DocumentName"] = r.Document,
                ["AutomationExecutionStatus"] = status,
                ["FailureMessage"] = status == "Failed" ? "Step fails when it is changing the security groups. UnauthorizedOperation." : null,
            };
        });
        var next = start + maxResults < all.Length ? "p" + (start + maxResults) : null;
        return Json(next is null ? new { AutomationExecutionMetadataList = page } : new { AutomationExecutionMetadataList = page, NextToken = next });
    }

    /// <summary>STS query protocol (botocore sts/2011-06-15: "protocol": "query"): form in, XML out.</summary>
    private async Task<IResult> StsAsync(HttpContext http)
    {
        var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        var action = form.GetValueOrDefault("Action", "");
        StsCalls.Enqueue(new StsCall(action, form));
        switch (action)
        {
            case "GetCallerIdentity":
                var caller = (string)http.Items["account"]!;
                return Xml("GetCallerIdentity",
                    $"<Arn>arn:aws:iam::{caller}:user/bot</Arn><UserId>AIDAFAKE</UserId><Account>{caller}</Account>");
            case "AssumeRole":
                var roleArn = form["RoleArn"];
                var account = roleArn.Split(':')[4];
                return Xml("AssumeRole", Issue(account) + $"<AssumedRoleUser><Arn>{SecurityElement.Escape(roleArn)}/ChatOpsInspector</Arn><AssumedRoleId>AROAFAKE:ChatOpsInspector</AssumedRoleId></AssumedRoleUser>");
            case "AssumeRoleWithWebIdentity":
                if (WebIdentityToken is null || form.GetValueOrDefault("WebIdentityToken") != WebIdentityToken)
                {
                    return Results.Text(
                        "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>bad token</Message></Error><RequestId>req-sts-denied</RequestId></ErrorResponse>",
                        "text/xml", statusCode: 400);
                }
                return Xml("AssumeRoleWithWebIdentity", Issue(form["RoleArn"].Split(':')[4]) +
                    "<SubjectFromWebIdentityToken>system:serviceaccount:security:chatopsinspector</SubjectFromWebIdentityToken>");
            default:
                return Results.Text("<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>", "text/xml", statusCode: 400);
        }
    }

    private string Issue(string account)
    {
        var n = Interlocked.Increment(ref _sessions);
        var key = $"ASIAFAKESESSION{n:D5}";
        var secret = $"session/secret/{n}/{Guid.NewGuid():N}";
        AddKey(key, secret, account);
        var expires = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        return $"<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>token-{n}</SessionToken><Expiration>{expires}</Expiration></Credentials>";
    }

    private static IResult Xml(string action, string result) => Results.Text(
        $"<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>{result}</{action}Result>" +
        $"<ResponseMetadata><RequestId>req-sts-{action}</RequestId></ResponseMetadata></{action}Response>", "text/xml");

    private static IResult Validation(string message) =>
        Json(new Dictionary<string, string> { ["__type"] = "ValidationException", ["message"] = "1 validation error detected: " + message }, 400);

    private static IResult Json(object body, int status = 200) =>
        Results.Text(JsonSerializer.Serialize(body), "application/x-amz-json-1.1", statusCode: status);

    /// <summary>
    /// A test host on <paramref name="redis"/> whose Inspector2 and SSM calls come to this fake in eu-west-1,
    /// signed with the remediation test key, on <paramref name="time"/>; <paramref name="settings"/> add to
    /// (or override) those, and <paramref name="services"/> registers more.
    /// </summary>
    public TestApp RemediationApp(RedisServer redis, TimeProvider time, Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var all = new Dictionary<string, string?>
        {
            ["Aws:Region"] = "eu-west-1",
            ["Aws:Inspector2:ServiceUrl"] = Server.BaseUrl,
            ["Aws:Ssm:ServiceUrl"] = Server.BaseUrl,
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        return new TestApp(TestApp.WithRedis(redis, all), s =>
        {
            s.AddSingleton<TimeProvider>(time);
            s.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDTESTREMEDIATION1", TestKeys["AKIDTESTREMEDIATION1"]));
            services?.Invoke(s);
        });
    }

    /// <summary>SSM requests for one operation (check <see cref="Rejected"/> for signatures AWS would refuse).</summary>
    public IEnumerable<Infrastructure.RecordedRequest> Ssm(string operation) =>
        Server.Requests.Where(r => r.Headers.TryGetValue("X-Amz-Target", out var t) && t == "AmazonSSM." + operation);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
