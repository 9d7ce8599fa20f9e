using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi;

/// <summary>
/// What the box keeps between requests, under one lock: its options (<c>GET/POST /sdapi/v1/options</c>), the checkpoint it
/// has loaded, and whether it is up. A1111 v1.10.1 keeps one model loaded (<c>shared.sd_model</c>) apart from the
/// <c>sd_model_checkpoint</c> option, and the two can disagree:
/// <list type="bullet">
/// <item><c>process_images</c> (modules/processing.py): a request without a known <c>override_settings.sd_model_checkpoint</c>
/// calls <c>reload_model_weights()</c>, which loads the checkpoint the option names; a known one is set with
/// <c>opts.set(..., run_callbacks=False)</c> and loaded with <c>reload_model_weights()</c>. Both are no-ops when that
/// checkpoint is already loaded (modules/sd_models.py <c>reload_model_weights</c>: same filename → return).</item>
/// <item>Afterwards, when <c>override_settings_restore_afterwards</c> is true (the default), the option is set back with
/// <c>setattr(opts, k, v)</c>, which runs no callback: the override's model stays loaded while <c>GET /options</c> names the
/// old one, and the next request that does not name a checkpoint loads the old one again (the switch back).</item>
/// <item><c>POST /options</c> with <c>sd_model_checkpoint</c> runs the option's onchange callback: the model loads at once.</item>
/// </list>
/// </summary>
internal sealed class MockState
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, JsonNode?> _options;
    private readonly Dictionary<string, WebUiOption> _known;
    private readonly bool _sdNext;
    private CheckpointInfo _loaded;
    private int _modelSwitches;
    private volatile bool _down;
    private int _downEpoch;

    public MockState()
        : this(ProfileTraits.For(MockWebUiProfile.WebUi110))
    {
    }

    /// <summary>
    /// A box of <paramref name="profile"/> with every option at its default (<see cref="WebUiOptionSet"/>: its data folder's
    /// options and its own extra settings) and the first checkpoint loaded.
    /// </summary>
    public MockState(ProfileTraits profile)
        : this(profile, Catalog.DefaultControlNetUnitCount)
    {
    }

    /// <summary>As <see cref="MockState(ProfileTraits)"/>, with control_net_unit_count set to the box's slots where ControlNet has the option.</summary>
    public MockState(ProfileTraits profile, int controlNetUnitCount)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _sdNext = profile.Family == ServerFamily.SdNext;
        var known = WebUiOptionSet.For(profile);
        _known = new Dictionary<string, WebUiOption>(known, StringComparer.Ordinal);
        _options = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, option) in known)
        {
            _options[key] = option.Default?.DeepClone();
        }

        _options["sd_model_checkpoint"] = Catalog.Checkpoints[0].Title; // sd_models.py stores the loaded model's title
        _options["sd_checkpoint_hash"] = Catalog.Checkpoints[0].Sha256;
        if (_options.ContainsKey("control_net_unit_count"))
        {
            _options["control_net_unit_count"] = controlNetUnitCount; // set in config.json, read at start (controlnet.py:1366-1367)
        }

        _loaded = CheckpointOptionLocked();
    }

    /// <summary>Title of the loaded checkpoint (what renders), which the option may not name.</summary>
    public string LoadedCheckpoint
    {
        get
        {
            lock (_gate)
            {
                return _loaded.Title;
            }
        }
    }

    /// <summary>How many times a different checkpoint was loaded.</summary>
    public int ModelSwitches => Volatile.Read(ref _modelSwitches);

    /// <summary>True between <see cref="GoDown"/> and <see cref="ComeBack"/>.</summary>
    public bool IsDown => _down;

    /// <summary>Counts the times the box went down: a call that sees it change while it ran is never answered.</summary>
    public int DownEpoch
    {
        get
        {
            lock (_gate)
            {
                return _downEpoch;
            }
        }
    }

    public void GoDown()
    {
        lock (_gate)
        {
            _down = true;
            _downEpoch++;
        }
    }

    public void ComeBack()
    {
        lock (_gate)
        {
            _down = false;
        }
    }

    /// <summary>A copy of every option (GET /sdapi/v1/options).</summary>
    public JsonObject OptionsJson()
    {
        lock (_gate)
        {
            var obj = new JsonObject();
            foreach (var (k, v) in _options)
            {
                if (_sdNext && k is "sd_lora" or "sd_lyco")
                {
                    continue; // SD.Next's get_config drops them (modules/api/server.py:65-68)
                }

                obj[k] = v?.DeepClone();
            }

            return obj;
        }
    }

    /// <summary>The option as a string (pydantic str coercion), or <paramref name="fallback"/>.</summary>
    public string OptionString(string key, string fallback)
    {
        lock (_gate)
        {
            return _options.TryGetValue(key, out var v) && PydanticFields.TryStr(v, out var s) ? s : fallback;
        }
    }

    /// <summary>The option as a bool (pydantic bool coercion), or <paramref name="fallback"/> when the box has no such option.</summary>
    public bool OptionFlag(string key, bool fallback)
    {
        lock (_gate)
        {
            return _options.TryGetValue(key, out var v) ? PydanticFields.TryBool(v, out var b) && b : fallback;
        }
    }

    /// <summary>True when the option holds a true bool (pydantic bool coercion).</summary>
    public bool OptionFlag(string key)
    {
        lock (_gate)
        {
            return _options.TryGetValue(key, out var v) && PydanticFields.TryBool(v, out var b) && b;
        }
    }

    /// <summary>
    /// POST /options, key by key in body order as <c>opts.set(k, v, is_api=True)</c> (A1111 api.py:678-687; options.py:144-171):
    /// an unknown checkpoint is a RuntimeError 500 before anything is set; a value equal (Python ==) to the current one is
    /// skipped, so an unknown key with null passes; any other unknown key is a KeyError 500 that leaves the keys before it
    /// set; restrict_api and hidden options are left; a checkpoint loads at once. Values are stored as sent (no type check).
    /// </summary>
    /// <remarks>
    /// SD.Next (vladmandic/sdnext@431bcc3 modules/api/server.py:71-76; modules/shared.py:1024-1043): no checkpoint check up
    /// front, an unknown key is a KeyError even with null, nothing is restricted, and the answer lists {key: changed}; an
    /// unknown checkpoint's onchange load fails and the option goes back (inference: reload_model_weights finds no file).
    /// </remarks>
    /// <returns>Each key with whether it changed (SD.Next's <c>updated</c>).</returns>
    public JsonArray SetOptions(JsonObject body)
    {
        var updated = new JsonArray();
        if (!_sdNext && body.TryGetPropertyValue("sd_model_checkpoint", out var ckptNode) && PydanticFields.TryStr(ckptNode, out var ckpt)
            && Catalog.FindCheckpoint(ckpt) is null)
        {
            throw MockRouteException.Internal("RuntimeError", $"model '{ckpt}' not found");
        }

        lock (_gate)
        {
            foreach (var (key, value) in body)
            {
                var changed = SetLocked(key, value);
                updated.Add(new JsonObject { [key] = changed });
            }
        }

        return updated;
    }

    private bool SetLocked(string key, JsonNode? value)
    {
        if (_sdNext && !_known.ContainsKey(key))
        {
            throw SdNextErrors.Internal("KeyError", $"'{key}'");
        }

        if (WebUiOptionSet.PythonEquals(_options.GetValueOrDefault(key), value))
        {
            return false;
        }

        if (!_known.TryGetValue(key, out var option))
        {
            throw MockRouteException.Internal("KeyError", $"'{key}'");
        }

        if (option.RestrictApi || option.Hidden)
        {
            return false;
        }

        if (key == "sd_model_checkpoint")
        {
            if (PydanticFields.TryStr(value, out var id) && Catalog.FindCheckpoint(id) is { } info)
            {
                _options[key] = info.Title;
                _options["sd_checkpoint_hash"] = info.Sha256;
                LoadLocked(info); // the option's onchange callback reloads the weights
                return true;
            }

            return false; // SD.Next only: the load fails and setattr(self, key, oldval) puts it back
        }

        _options[key] = value?.DeepClone();
        return true;
    }

    /// <summary>The checkpoint the <c>sd_model_checkpoint</c> option names (the first one if it names none).</summary>
    public CheckpointInfo OptionCheckpoint()
    {
        lock (_gate)
        {
            return CheckpointOptionLocked();
        }
    }

    /// <summary>
    /// Before a render: a known <paramref name="requested"/> checkpoint becomes the option and is loaded, else the option's
    /// checkpoint is loaded. Returns what renders, whether that was a switch, and the option as it was.
    /// </summary>
    public CheckpointLoad LoadForRender(CheckpointInfo? requested)
    {
        lock (_gate)
        {
            var title = _options.GetValueOrDefault("sd_model_checkpoint")?.DeepClone();
            var hash = _options.GetValueOrDefault("sd_checkpoint_hash")?.DeepClone();
            bool switched;
            if (requested is not null)
            {
                _options["sd_model_checkpoint"] = requested.Title;
                _options["sd_checkpoint_hash"] = requested.Sha256;
                switched = LoadLocked(requested);
            }
            else
            {
                switched = LoadLocked(CheckpointOptionLocked());
            }

            return new CheckpointLoad(_loaded, switched, title, hash);
        }
    }

    /// <summary>After a render: setattr(opts, k, v) puts the option back; the loaded model stays.</summary>
    public void RestoreCheckpointOption(CheckpointLoad load)
    {
        lock (_gate)
        {
            _options["sd_model_checkpoint"] = load.OptionTitle;
            _options["sd_checkpoint_hash"] = load.OptionHash;
        }
    }

    private CheckpointInfo CheckpointOptionLocked() =>
        Catalog.FindCheckpoint(_options.TryGetValue("sd_model_checkpoint", out var v) && PydanticFields.TryStr(v, out var s) ? s : null)
            ?? Catalog.Checkpoints[0];

    /// <summary>Loads <paramref name="target"/> if another model is loaded; true when that was a switch.</summary>
    private bool LoadLocked(CheckpointInfo target)
    {
        if (_loaded == target)
        {
            return false;
        }

        _loaded = target;
        Interlocked.Increment(ref _modelSwitches);
        return true;
    }
}

/// <summary>What a render loaded (<see cref="MockState.LoadForRender"/>) and the checkpoint option as it was before.</summary>
internal sealed record CheckpointLoad(CheckpointInfo Loaded, bool Switched, JsonNode? OptionTitle, JsonNode? OptionHash);
