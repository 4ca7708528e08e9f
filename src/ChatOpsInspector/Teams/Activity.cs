using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ChatOpsInspector.Teams;

/// <summary>The parts of a Bot Framework activity this bot reads or sends.</summary>
internal sealed record Activity
{
    public string? Type { get; init; }
    public string? Id { get; init; }
    public string? Name { get; init; }
    public string? Text { get; init; }
    public string? TextFormat { get; init; }
    public string? Summary { get; init; }
    public string? ServiceUrl { get; init; }
    public string? ChannelId { get; init; }
    public string? ReplyToId { get; init; }

    /// <summary>installationUpdate: "add", "remove", "add-upgrade", "remove-upgrade".</summary>
    public string? Action { get; init; }
    public ChannelAccount? From { get; init; }
    public ChannelAccount? Recipient { get; init; }
    public ConversationAccount? Conversation { get; init; }
    public TeamsChannelData? ChannelData { get; init; }
    public IReadOnlyList<ChannelAccount>? MembersAdded { get; init; }
    public IReadOnlyList<ChannelAccount>? MembersRemoved { get; init; }
    public IReadOnlyList<Entity>? Entities { get; init; }
    public IReadOnlyList<Attachment>? Attachments { get; init; }
    public JsonElement? Value { get; init; }

    /// <summary>The Teams channel (19:…@thread.tacv2) this activity happened in, if any.</summary>
    [JsonIgnore]
    public string? TeamsChannelId =>
        ChannelData?.TeamsChannelId ?? ChannelData?.Channel?.Id
        ?? (Conversation?.ConversationType == "channel" ? Conversation.Id?.Split(';')[0] : null);

    [JsonIgnore]
    public string? TeamId => ChannelData?.TeamsTeamId ?? ChannelData?.Team?.Id;

    [JsonIgnore]
    public string? TenantId => Conversation?.TenantId ?? ChannelData?.Tenant?.Id;
}

internal sealed record ChannelAccount(string? Id, string? Name = null)
{
    public string? AadObjectId { get; init; }
    public string? Role { get; init; }
}

internal sealed record ConversationAccount(string? Id)
{
    public string? ConversationType { get; init; }
    public string? TenantId { get; init; }
    public bool? IsGroup { get; init; }
    public string? Name { get; init; }
}

internal sealed record TeamsChannelData
{
    public string? TeamsChannelId { get; init; }
    public string? TeamsTeamId { get; init; }
    public TeamsInfo? Channel { get; init; }
    public TeamsInfo? Team { get; init; }
    public TeamsInfo? Tenant { get; init; }

    /// <summary>conversationUpdate detail: teamMemberAdded, channelCreated, teamDeleted…</summary>
    public string? EventType { get; init; }

    /// <summary>installationUpdate in a team: <c>settings.selectedChannel</c> is the channel picked in the install dialog.</summary>
    public TeamsSettings? Settings { get; init; }
}

internal sealed record TeamsSettings
{
    public TeamsInfo? SelectedChannel { get; init; }
}

internal sealed record TeamsInfo(string? Id)
{
    public string? Name { get; init; }
}

internal sealed record Entity(string? Type)
{
    public string? Text { get; init; }
    public ChannelAccount? Mentioned { get; init; }
}

internal sealed record Attachment(string ContentType, JsonNode? Content);

/// <summary>Body of POST /v3/conversations.</summary>
internal sealed record ConversationParameters
{
    public bool IsGroup { get; init; }
    public ChannelAccount? Bot { get; init; }
    public IReadOnlyList<ChannelAccount>? Members { get; init; }
    public string? TenantId { get; init; }
    public Activity? Activity { get; init; }
    public TeamsChannelData? ChannelData { get; init; }
}

internal sealed record ConversationResourceResponse(string? Id, string? ActivityId, string? ServiceUrl);

internal sealed record ResourceResponse(string? Id);

/// <summary>A member as GET /v3/conversations/{id}/members/{userId} describes them in Teams.</summary>
internal sealed record TeamsMember(string? Id, string? Name)
{
    public string? AadObjectId { get; init; }
    public string? Email { get; init; }
    public string? UserPrincipalName { get; init; }
}

/// <summary>Universal Action invoke response: <c>{statusCode, type, value}</c> in an HTTP 200.</summary>
internal sealed record AdaptiveCardInvokeResponse(int StatusCode, string Type, JsonNode? Value);

internal sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string? AccessToken,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>Where to reach a Teams channel (or personal chat) later: stored when the bot is installed.</summary>
internal sealed record ConversationReference
{
    public required string ServiceUrl { get; init; }
    public required string TenantId { get; init; }
    public string? TeamId { get; init; }

    /// <summary>Teams channel id, or the personal/group chat conversation id.</summary>
    public required string ConversationId { get; init; }
    public required string BotId { get; init; }
    public string? BotName { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true,
    MaxDepth = 64)]
[JsonSerializable(typeof(Activity))]
[JsonSerializable(typeof(ConversationParameters))]
[JsonSerializable(typeof(ConversationResourceResponse))]
[JsonSerializable(typeof(ResourceResponse))]
[JsonSerializable(typeof(TeamsMember))]
[JsonSerializable(typeof(AdaptiveCardInvokeResponse))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(ConversationReference))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class TeamsJson : JsonSerializerContext;
