using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Aws;

/// <summary>
/// AWS Security Hub's finding updates. Shapes and paths are those of botocore's <c>securityhub</c>
/// service model (2018-10-26): <c>BatchUpdateFindings</c> is <c>PATCH /findings/batchupdate</c> (ASFF,
/// at most 100 <c>FindingIdentifiers</c> a call, as its documentation says),
/// <c>BatchUpdateFindingsV2</c> is <c>PATCH /findingsv2/batchupdatev2</c> (OCSF; its
/// <c>OcsfFindingIdentifierList</c> has <c>max: 100</c>).
/// </summary>
internal interface ISecurityHubClient
{
    Task<BatchUpdateResult> BatchUpdateFindingsAsync(string region, BatchUpdateFindingsRequest request, CancellationToken cancellationToken);

    Task<BatchUpdateResult> BatchUpdateFindingsV2Async(string region, BatchUpdateFindingsV2Request request, CancellationToken cancellationToken);
}

/// <summary>
/// One signed attempt per call, in the finding's region, with the bot's credentials (in an
/// organisation, the Security Hub delegated administrator's). Retrying is the caller's: a durable job
/// that survives restarts, not a loop that holds a thread.
/// </summary>
internal sealed class SecurityHubClient(
    HttpClient http,
    IOptions<SecurityHubOptions> options,
    AwsCredentialsProvider credentials,
    TimeProvider time,
    ILogger<SecurityHubClient> logger) : ISecurityHubClient
{
    public const string ServiceName = "securityhub";
    public const int MaxFindingsPerCall = 100;

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    public Task<BatchUpdateResult> BatchUpdateFindingsAsync(string region, BatchUpdateFindingsRequest request, CancellationToken cancellationToken)
    {
        CheckCount(request.FindingIdentifiers.Count);
        return SendAsync(region, "BatchUpdateFindings", "findings/batchupdate", request,
            SecurityHubJson.Default.BatchUpdateFindingsRequest, cancellationToken);
    }

    public Task<BatchUpdateResult> BatchUpdateFindingsV2Async(string region, BatchUpdateFindingsV2Request request, CancellationToken cancellationToken)
    {
        CheckCount(request.FindingIdentifiers.Count);
        return SendAsync(region, "BatchUpdateFindingsV2", "findingsv2/batchupdatev2", request,
            SecurityHubJson.Default.BatchUpdateFindingsV2Request, cancellationToken);
    }

    private static void CheckCount(int count)
    {
        if (count is < 1 or > MaxFindingsPerCall)
        {
            throw new ArgumentException($"Security Hub updates 1 to {MaxFindingsPerCall} findings a call, not {count}.");
        }
    }

    private async Task<BatchUpdateResult> SendAsync<TRequest>(
        string region, string operation, string path, TRequest request, JsonTypeInfo<TRequest> type, CancellationToken cancellationToken)
    {
        var uri = new Uri(options.Value.Endpoint(region), path);
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, type);
        var signing = await credentials.GetSigningCredentialsAsync(cancellationToken);
        using var message = new HttpRequestMessage(HttpMethod.Patch, uri)
        {
            Content = new ByteArrayContent(payload) { Headers = { ContentType = JsonContentType } },
        };
        message.Headers.Accept.ParseAdd("application/json");
        SigV4Signer.SignRequest(message, payload, signing, region, ServiceName, time.GetUtcNow());
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new AwsServiceException(ServiceName, operation, "RequestFailed", ex.Message, null, null, AwsErrorKind.Unavailable, innerException: ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AwsServiceException(ServiceName, operation, "RequestTimeout", "No response in time.", null, null, AwsErrorKind.Unavailable, innerException: ex);
        }
        using (response)
        {
            var requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
            var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var failure = Error(operation, response.StatusCode, content, requestId,
                    response.Headers.TryGetValues("x-amzn-ErrorType", out var types) ? types.FirstOrDefault() : null);
                logger.AwsCallFailed(ServiceName, operation, failure.ErrorCode, (int)response.StatusCode, requestId, 1);
                throw failure;
            }
            logger.AwsCallSucceeded(ServiceName, operation, requestId);
            try
            {
                var body = JsonSerializer.Deserialize(content, SecurityHubJson.Default.BatchUpdateResponse);
                var unprocessed = (body?.UnprocessedFindings ?? [])
                    .Select(u => new UnprocessedFinding(u.FindingIdentifier?.Id ?? u.FindingIdentifier?.FindingInfoUid ?? u.MetadataUid ?? "", u.ErrorCode ?? "", u.ErrorMessage ?? ""))
                    .ToArray();
                return new BatchUpdateResult(body?.ProcessedFindings?.Count ?? 0, unprocessed, requestId);
            }
            catch (JsonException ex)
            {
                throw new AwsServiceException(ServiceName, operation, "UnreadableResponse", ex.Message, response.StatusCode, requestId, AwsErrorKind.Unavailable, innerException: ex);
            }
        }
    }

    private static AwsServiceException Error(string operation, HttpStatusCode status, byte[] content, string? requestId, string? headerType)
    {
        string? code = headerType, text = null;
        try
        {
            using var document = content.Length > 0 ? JsonDocument.Parse(content) : null;
            if (document?.RootElement is { ValueKind: JsonValueKind.Object } root)
            {
                code ??= root.TryGetProperty("__type", out var t) ? t.GetString() : root.TryGetProperty("Code", out var c) ? c.GetString() : null;
                text = root.TryGetProperty("Message", out var m) ? m.GetString() : root.TryGetProperty("message", out var m2) ? m2.GetString() : null;
            }
        }
        catch (JsonException)
        {
            // A proxy's HTML page: the status code still tells the story.
        }
        var bare = Inspector2Client.NormalizeErrorCode(code) ?? (int)status switch
        {
            429 => "TooManyRequestsException",
            403 => "AccessDeniedException",
            >= 500 => "InternalException",
            _ => "UnknownError",
        };
        return new AwsServiceException(ServiceName, operation, bare, text, status, requestId);
    }
}

/// <summary>Section <c>SecurityHub</c>.</summary>
internal sealed class SecurityHubOptions
{
    public const string Section = "SecurityHub";

    /// <summary>Write chat triage back to Security Hub findings. Off unless asked for: it changes another team's console.</summary>
    public bool WriteBack { get; set; }

    /// <summary>
    /// Which API Inspector's own findings are updated with: <c>Asff</c> (BatchUpdateFindings, Security
    /// Hub CSPM), <c>Ocsf</c> (BatchUpdateFindingsV2, Security Hub) or <c>Both</c>. Findings that came
    /// through Security Hub are updated in the format they came in.
    /// </summary>
    public SecurityHubApi Api { get; set; } = SecurityHubApi.Asff;

    /// <summary>Empty: the regional endpoint. Set for a proxy, a VPC endpoint or a fake in tests (every region goes there, still signed for its region).</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>Attempts before a write-back is given up (and audited as such).</summary>
    public int MaxAttempts { get; set; } = 10;

    internal Uri Endpoint(string region) =>
        string.IsNullOrWhiteSpace(ServiceUrl)
            ? AwsOptions.RegionalEndpoint(SecurityHubClient.ServiceName, region)
            : new Uri(ServiceUrl.EndsWith('/') ? ServiceUrl : ServiceUrl + "/");
}

internal enum SecurityHubApi
{
    Asff,
    Ocsf,
    Both,
}

internal sealed record BatchUpdateResult(int Processed, IReadOnlyList<UnprocessedFinding> Unprocessed, string? RequestId);

internal sealed record UnprocessedFinding(string FindingId, string ErrorCode, string ErrorMessage);

internal sealed record BatchUpdateFindingsRequest(
    IReadOnlyList<AwsSecurityFindingIdentifier> FindingIdentifiers,
    NoteUpdate? Note,
    WorkflowUpdate Workflow);

internal sealed record AwsSecurityFindingIdentifier(string Id, string ProductArn);

internal sealed record NoteUpdate(string Text, string UpdatedBy);

internal sealed record WorkflowUpdate(string Status);

internal sealed record BatchUpdateFindingsV2Request(
    IReadOnlyList<OcsfFindingIdentifier> FindingIdentifiers,
    string? Comment,
    int StatusId);

internal sealed record OcsfFindingIdentifier(string CloudAccountUid, string FindingInfoUid, string MetadataProductUid);

internal sealed record BatchUpdateResponse(
    IReadOnlyList<JsonElement>? ProcessedFindings,
    IReadOnlyList<UnprocessedEntry>? UnprocessedFindings);

internal sealed record UnprocessedEntry(FindingIdentifierEntry? FindingIdentifier, string? MetadataUid, string? ErrorCode, string? ErrorMessage);

internal sealed record FindingIdentifierEntry(string? Id, string? ProductArn, string? FindingInfoUid);

/// <summary>Security Hub's JSON is PascalCase, as the service model names its members.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BatchUpdateFindingsRequest))]
[JsonSerializable(typeof(BatchUpdateFindingsV2Request))]
[JsonSerializable(typeof(BatchUpdateResponse))]
internal sealed partial class SecurityHubJson : JsonSerializerContext;
