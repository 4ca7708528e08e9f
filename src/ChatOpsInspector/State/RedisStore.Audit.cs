using System.Globalization;
using StackExchange.Redis;

namespace ChatOpsInspector.State;

/// <summary>
/// The audit stream: one Redis stream per partition, each its own hash chain (<see cref="AuditChain"/>).
/// A script appends: it reads the chain's head (last hash and id), hashes the record with SHA-256 and
/// XADDs it, so two replicas appending at once cannot fork a chain; the stream and its head share the
/// partition's hash tag and are both declared in KEYS[]. Stream ids follow the record's own time
/// (never going back), so an export from a date starts there (XRANGE from <c>ms-0</c>).
/// </summary>
internal sealed partial class RedisStore
{
    /// <summary>
    /// Lua (Redis 2.8+, Valkey, ElastiCache, MemoryDB ship the <c>bit</c> library) for SHA-256 and the
    /// chained append; prepended to every script that writes an audit record.
    /// </summary>
    internal const string AuditChainLua = """
        local band, bor, bxor, bnot, rshift, lshift, ror, tobit = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift, bit.lshift, bit.ror, bit.tobit
        local K = {
          0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
          0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
          0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
          0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
          0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
          0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
          0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
          0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2 }
        local function sha256(msg)
          local len = #msg
          local bits = len * 8
          local tail = {}
          for i = 7, 0, -1 do tail[#tail + 1] = string.char(math.floor(bits / 2 ^ (8 * i)) % 256) end
          msg = msg .. '\128' .. string.rep('\0', (64 - ((len + 9) % 64)) % 64) .. table.concat(tail)
          local H = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
          for i = 1, #msg, 64 do
            local w = {}
            for j = 0, 15 do
              local b1, b2, b3, b4 = string.byte(msg, i + j * 4, i + j * 4 + 3)
              w[j] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
            end
            for j = 16, 63 do
              local x, y = w[j - 15], w[j - 2]
              w[j] = tobit(w[j - 16] + bxor(ror(x, 7), ror(x, 18), rshift(x, 3)) + w[j - 7] + bxor(ror(y, 17), ror(y, 19), rshift(y, 10)))
            end
            local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
            for j = 0, 63 do
              local t1 = h + bxor(ror(e, 6), ror(e, 11), ror(e, 25)) + bxor(band(e, f), band(bnot(e), g)) + K[j + 1] + w[j]
              local t2 = bxor(ror(a, 2), ror(a, 13), ror(a, 22)) + bxor(band(a, b), band(a, c), band(b, c))
              h = g; g = f; f = e; e = tobit(d + t1); d = c; c = b; b = a; a = tobit(t1 + t2)
            end
            H[1] = tobit(H[1] + a); H[2] = tobit(H[2] + b); H[3] = tobit(H[3] + c); H[4] = tobit(H[4] + d)
            H[5] = tobit(H[5] + e); H[6] = tobit(H[6] + f); H[7] = tobit(H[7] + g); H[8] = tobit(H[8] + h)
          end
          local out = {}
          for i = 1, 8 do out[i] = bit.tohex(H[i], 8) end
          return table.concat(out)
        end
        local function audit_append(stream, head, record, ms)
          local prev = redis.call('HGET', head, 'h') or '0000000000000000000000000000000000000000000000000000000000000000'
          local last = redis.call('HGET', head, 'id')
          if not last then
            local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
            if #top > 0 then last = top[1][1] end
          end
          local id = ms .. '-0'
          if last then
            local dash = string.find(last, '-', 1, true)
            local lms, lseq = string.sub(last, 1, dash - 1), tonumber(string.sub(last, dash + 1))
            if tonumber(lms) >= tonumber(ms) then id = lms .. '-' .. string.format('%d', lseq + 1) end
          end
          local hash = sha256(prev .. '\n' .. record)
          redis.call('XADD', stream, id, 'r', record, 'p', prev, 'h', hash)
          redis.call('HSET', head, 'h', hash, 'id', id)
          return id
        end
        """;

    private const string AppendAuditScript = AuditChainLua + "\n" + """
        return audit_append(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
        """;

    /// <summary>Scans this far past <c>to</c>: a replica whose clock is behind files records a little ahead of their time.</summary>
    private static readonly TimeSpan ClockMargin = TimeSpan.FromHours(1);

    internal RedisKey AuditHead(int partition) => (string)_keys.Audit(partition)! + ":head";

    internal static string AuditMs(DateTimeOffset at) => Math.Max(0, at.ToUnixTimeMilliseconds()).ToString(CultureInfo.InvariantCulture);

    /// <summary>A record of a group goes with that group's audit part; others go by actor.</summary>
    public Task AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        var partition = _keys.PartitionOf(record.GroupId ?? record.ActorId);
        return Db.ScriptEvaluateAsync(AppendAuditScript, [_keys.Audit(partition), AuditHead(partition)], [StateJson.Write(record), AuditMs(record.At)]);
    }

    public async Task<IReadOnlyList<AuditRecord>> ReadAsync(DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken) =>
        (await ReadPageAsync(from, to, max, null, cancellationToken)).Records.Select(r => r.Record).ToArray();

    /// <summary>
    /// Each partition read from <c>from</c> (or from the cursor) and merged by the record's own time.
    /// A partition is read at most <paramref name="max"/> matching records ahead.
    /// </summary>
    public async Task<AuditPage> ReadPageAsync(DateTimeOffset from, DateTimeOffset to, int max, string? cursor, CancellationToken cancellationToken)
    {
        var positions = AuditCursor.Decode(cursor) ?? throw new ArgumentException("Invalid audit cursor.", nameof(cursor));
        var end = to >= DateTimeOffset.MaxValue - ClockMargin ? "+" : AuditMs(to + ClockMargin);
        var parts = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions).Select(p =>
        {
            var chain = p.ToString(CultureInfo.InvariantCulture);
            RedisValue start = positions.TryGetValue(chain, out var after) ? "(" + after : from <= DateTimeOffset.UnixEpoch ? "-" : AuditMs(from) + "-0";
            return ReadPartitionAsync(chain, _keys.Audit(p), start, end, from, to, max, cancellationToken);
        }));
        return AuditPaging.Merge(parts, positions, max);
    }

    private async Task<AuditPaging.Part> ReadPartitionAsync(string chain, RedisKey stream, RedisValue start, RedisValue end,
        DateTimeOffset from, DateTimeOffset to, int max, CancellationToken cancellationToken)
    {
        var records = new List<ChainedAuditRecord>();
        string? scanned = null;
        var pageSize = Math.Min(max, 1000);
        while (true)
        {
            var page = await Db.StreamRangeAsync(stream, start, end, count: pageSize).WaitAsync(cancellationToken);
            foreach (var entry in page)
            {
                var record = Read<AuditRecord>(entry["r"]);
                scanned = entry.Id.ToString();
                if (record.At >= from && record.At < to)
                {
                    records.Add(new(record, scanned, NullIfEmpty(entry["p"]), NullIfEmpty(entry["h"])));
                    if (records.Count >= max)
                    {
                        return new(chain, records, scanned, Exhausted: false);
                    }
                }
            }
            if (page.Length < pageSize)
            {
                return new(chain, records, scanned, Exhausted: true);
            }
            start = "(" + page[^1].Id;
        }
    }

    private static string? NullIfEmpty(RedisValue value) => value.IsNullOrEmpty ? null : value.ToString();

    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var chains = await Task.WhenAll(Enumerable.Range(0, _keys.Partitions).Select(async p =>
        {
            var verifier = new AuditChain.Verifier(p.ToString(CultureInfo.InvariantCulture));
            RedisValue start = "-";
            while (true)
            {
                var page = await Db.StreamRangeAsync(_keys.Audit(p), start, "+", count: 1000).WaitAsync(cancellationToken);
                foreach (var entry in page)
                {
                    if (!verifier.Add(entry.Id.ToString(), ((ReadOnlyMemory<byte>)entry["r"]).Span, NullIfEmpty(entry["p"]), NullIfEmpty(entry["h"])))
                    {
                        return verifier;
                    }
                }
                if (page.Length < 1000)
                {
                    return verifier;
                }
                start = "(" + page[^1].Id;
            }
        }));
        return AuditChain.Summarise(chains);
    }
    // The archived mark and the trim move together; MINID keeps every entry at or after the id given,
    // which is the one right after the last archived entry, so nothing newer can go.
    private const string MarkArchivedScript = """
        local archived = redis.call('HGET', KEYS[2], 'a')
        if archived and archived == ARGV[1] then return 0 end
        redis.call('HSET', KEYS[2], 'a', ARGV[1])
        redis.call('XTRIM', KEYS[1], 'MINID', ARGV[2])
        return 1
        """;

    public IReadOnlyList<string> Chains => [.. Enumerable.Range(0, _keys.Partitions).Select(p => p.ToString(CultureInfo.InvariantCulture))];

    public async Task<IReadOnlyList<StoredAuditEntry>> ReadUnarchivedAsync(string chain, int max, CancellationToken cancellationToken)
    {
        var partition = int.Parse(chain, CultureInfo.InvariantCulture);
        var archived = await Db.HashGetAsync(AuditHead(partition), "a").WaitAsync(cancellationToken);
        RedisValue start = archived.IsNullOrEmpty ? "-" : "(" + archived;
        var entries = await Db.StreamRangeAsync(_keys.Audit(partition), start, "+", count: max).WaitAsync(cancellationToken);
        return [.. entries.Select(e => new StoredAuditEntry(e.Id.ToString(), (byte[])e["r"]!, NullIfEmpty(e["p"]), NullIfEmpty(e["h"])))];
    }

    public Task MarkArchivedAsync(string chain, string lastId, CancellationToken cancellationToken)
    {
        var partition = int.Parse(chain, CultureInfo.InvariantCulture);
        var (ms, seq) = AuditCursor.Parse(lastId);
        var keep = $"{ms}-{seq + 1}";
        return Db.ScriptEvaluateAsync(MarkArchivedScript, [_keys.Audit(partition), AuditHead(partition)], [lastId, keep]);
    }
}

/// <summary>Merging per-chain reads into one page and the cursor that continues it.</summary>
internal static class AuditPaging
{
    public sealed record Part(string Chain, IReadOnlyList<ChainedAuditRecord> Records, string? ScannedTo, bool Exhausted);

    /// <summary>
    /// The <paramref name="max"/> earliest records by time, taken as a prefix of each chain so that a
    /// chain's position in the cursor never skips a record of it.
    /// </summary>
    public static AuditPage Merge(IReadOnlyList<Part> parts, IReadOnlyDictionary<string, string> positions, int max)
    {
        var counts = parts.SelectMany(p => p.Records.Select(r => (p.Chain, r.Record.At, r.Id)))
            .OrderBy(x => x.At).ThenBy(x => x.Chain, StringComparer.Ordinal).ThenBy(x => AuditCursor.Parse(x.Id))
            .Take(max).CountBy(x => x.Chain).ToDictionary();
        var next = new Dictionary<string, string>(positions, StringComparer.Ordinal);
        var page = new List<ChainedAuditRecord>();
        var more = false;
        foreach (var part in parts)
        {
            var k = counts.GetValueOrDefault(part.Chain);
            page.AddRange(part.Records.Take(k));
            var all = k == part.Records.Count;
            more |= !all || !part.Exhausted;
            var position = all ? part.ScannedTo : k > 0 ? part.Records[k - 1].Id : null;
            if (position is not null)
            {
                next[part.Chain] = position;
            }
        }
        return new([.. page.OrderBy(r => r.Record.At)], more ? AuditCursor.Encode(next) : null);
    }
}
