using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;

namespace ChatOpsInspector.Teams;

/// <summary>Posts and updates alert cards in Teams channels through the Bot Connector.</summary>
internal sealed class TeamsChatAdapter(ConnectorClient connector, ConversationReferences references, CardViewers viewers, TeamsMemberDirectory members, TimeProvider time) : IChatAdapter
{
    public const string NoReference = "no_conversation_reference: install the bot in the team";

    /// <summary>
    /// How soon a card or note for a channel the bot has not learned yet is tried again: it is kept, not
    /// dropped, and goes out once the bot is installed there (or the team comes back).
    /// </summary>
    public static readonly TimeSpan NoReferenceRetry = TimeSpan.FromMinutes(1);
    public const string NoPersonalChat = "no_personal_chat: the person must install the bot or message it once";

    public string Platform => "teams";

    public string? ChannelFor(OwnerRoute route) => route.TeamsChannel;

    public async Task<ChatResult> PostCardAsync(string channel, AlertCardView card, CancellationToken cancellationToken)
    {
        if (await references.ChannelAsync(channel, cancellationToken) is not { } reference)
        {
            return ChatResult.Retry(NoReferenceRetry, NoReference);
        }
        var result = await connector.CreateChannelThreadAsync(reference, CardActivity(card), cancellationToken);
        if (result.Ok && (result.ActivityId is null || result.Id is null))
        {
            return ChatResult.Failed("connector answered without conversation or activity id");
        }
        return Map(result, () => new ChatMessageRef(Platform, channel, result.ActivityId!, ThreadId: result.Id));
    }

    public async Task<ChatResult> UpdateCardAsync(ChatMessageRef message, AlertCardView card, CancellationToken cancellationToken)
    {
        if (await references.ChannelAsync(message.Channel, cancellationToken) is not { } reference)
        {
            return ChatResult.Retry(NoReferenceRetry, NoReference);
        }
        var result = await connector.UpdateAsync(reference.ServiceUrl, message.ThreadId ?? message.Channel, message.MessageId, CardActivity(card), cancellationToken);
        return Map(result, () => message);
    }

    public async Task<ChatResult> PostNoteAsync(string channel, ChatMessageRef? thread, ChatNote note, CancellationToken cancellationToken)
    {
        if (await references.ChannelAsync(channel, cancellationToken) is not { } reference)
        {
            return ChatResult.Retry(NoReferenceRetry, NoReference);
        }
        var activity = NoteActivity(await WithNamesAsync(reference, note, cancellationToken));
        if (thread?.ThreadId is { } conversationId)
        {
            var reply = await connector.SendAsync(reference.ServiceUrl, conversationId, thread.MessageId, activity, cancellationToken);
            return Map(reply, () => new ChatMessageRef(Platform, channel, reply.Id ?? "", ThreadId: conversationId));
        }
        var created = await connector.CreateChannelThreadAsync(reference, activity, cancellationToken);
        return Map(created, () => new ChatMessageRef(Platform, channel, created.ActivityId ?? "", ThreadId: created.Id));
    }

    public bool CanMessage(string userId) => Guid.TryParse(userId, out _) || userId.StartsWith("29:", StringComparison.Ordinal) || IsEmail(userId);

    /// <summary>
    /// A 1:1 message to a person (Entra object id, Teams user id or UPN/e-mail): in the personal chat the
    /// bot learned when the person installed it or wrote to it, else in one it creates with
    /// <c>POST /v3/conversations</c> on the service URL of <paramref name="channel"/>'s team.
    /// </summary>
    public async Task<ChatResult> DirectMessageAsync(string userId, string? channel, ChatNote note, CancellationToken cancellationToken)
    {
        var home = channel is null ? null : await references.ChannelAsync(channel, cancellationToken);
        var person = userId;
        if (IsEmail(userId))
        {
            if (home is null)
            {
                return ChatResult.Failed(NoPersonalChat);
            }
            var found = await members.FindAsync(home, userId, cancellationToken);
            if (found.Transient)
            {
                return ChatResult.Retry(null, "member lookup unavailable");
            }
            if (found.Member?.AadObjectId is not { } aad)
            {
                return ChatResult.Failed("member_not_found: nobody in the team has this e-mail");
            }
            person = aad;
        }
        var chat = await references.PersonalChatAsync(person, cancellationToken);
        if (chat is null && home is not null)
        {
            var created = await connector.CreatePersonalChatAsync(home.ServiceUrl, home.TenantId, home.BotId, person, cancellationToken);
            if (!created.Ok || created.Id is null)
            {
                return Map(created.Ok ? created with { Error = "connector answered without conversation id" } : created, () => null!);
            }
            chat = home with { ConversationId = created.Id, TeamId = null, UpdatedAt = time.GetUtcNow() };
            await references.SavePersonalChatAsync(person, chat, cancellationToken);
        }
        if (chat is null)
        {
            return ChatResult.Failed(NoPersonalChat);
        }
        var sent = await connector.SendAsync(chat.ServiceUrl, chat.ConversationId, null, NoteActivity(note), cancellationToken);
        return Map(sent, () => new ChatMessageRef(Platform, chat.ConversationId, sent.Id ?? "", ThreadId: chat.ConversationId));
    }

    /// <summary>
    /// Fills in the names of mentioned people the note does not name, from the team's roster, so a
    /// mention reads "Ana Alvarez" rather than an id. A roster that cannot answer now leaves the tag generic.
    /// </summary>
    private async Task<ChatNote> WithNamesAsync(ConversationReference team, ChatNote note, CancellationToken cancellationToken)
    {
        if (note.Mentions is not { Count: > 0 } mentions)
        {
            return note;
        }
        var names = new Dictionary<string, string>(note.Names ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        foreach (var person in mentions.Where(m => !names.ContainsKey(m) && CanMessage(m)).Take(20))
        {
            if ((await members.FindAsync(team, person, cancellationToken)).Member?.Name is { Length: > 0 } name)
            {
                names[person] = name;
            }
        }
        return note with { Names = names };
    }

    private static bool IsEmail(string id) => id.Length > 2 && id.IndexOf('@', StringComparison.Ordinal) > 0 && !id.EndsWith('@');

    internal Activity CardActivity(AlertCardView card) => new()
    {
        Type = "message",
        Summary = TeamsText.Cut(card.FallbackText, 200),
        Attachments = [new Attachment(AlertCardRenderer.ContentType, AlertCardRenderer.Render(card, viewers.ForChannel(card)))],
    };

    /// <summary>
    /// Escaped text; people named by Entra object id, Teams user id or UPN become real mentions: an
    /// <c>&lt;at&gt;Name&lt;/at&gt;</c> tag in the text and a <c>mention</c> entity whose <c>text</c> is that
    /// same tag and whose <c>mentioned</c> names the person. The tag shows the person's name where it
    /// is known, never a raw id.
    /// </summary>
    internal static Activity NoteActivity(ChatNote note)
    {
        var text = TeamsText.Escape(TeamsText.Cut(note.Text, 4000));
        var entities = new List<Entity>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var person in note.Mentions ?? [])
        {
            if (!(Guid.TryParse(person, out _) || person.StartsWith("29:", StringComparison.Ordinal) || IsEmail(person)) || !seen.Add(person))
            {
                continue;
            }
            var name = note.Names?.GetValueOrDefault(person) is { Length: > 0 } known ? known
                : IsEmail(person) ? person
                : "the assignee";
            var tag = $"<at>{TeamsText.Escape(name)}</at>";
            text += " " + tag;
            entities.Add(new Entity("mention") { Text = tag, Mentioned = new ChannelAccount(person, name) });
        }
        return new Activity { Type = "message", TextFormat = "markdown", Text = text, Entities = entities.Count > 0 ? entities : null };
    }

    private static ChatResult Map(ConnectorResult result, Func<ChatMessageRef> message)
    {
        if (result.Ok)
        {
            return ChatResult.Ok(message());
        }
        return result.Transient
            ? ChatResult.Retry(result.RetryAfter, result.Error ?? "transient")
            : ChatResult.Failed(result.Error ?? "failed");
    }
}
