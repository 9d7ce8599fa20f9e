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
    private readonly Dictionary<string, JsonNode?> _options = DefaultOptions();
    private CheckpointInfo _loaded;
    private int _modelSwitches;
    private volatile bool _down;
    private int _downEpoch;

    public MockState()
        : this(new Dictionary<string, JsonNode?>())
    {
    }

    /// <summary>A state whose options also hold <paramref name="extraOptions"/> (a profile's own settings).</summary>
    public MockState(IReadOnlyDictionary<string, JsonNode?> extraOptions)
    {
        ArgumentNullException.ThrowIfNull(extraOptions);
        foreach (var (key, value) in extraOptions)
        {
            _options[key] = value?.DeepClone();
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

    /// <summary>True when the option holds a true bool (pydantic bool coercion).</summary>
    public bool OptionFlag(string key)
    {
        lock (_gate)
        {
            return _options.TryGetValue(key, out var v) && PydanticFields.TryBool(v, out var b) && b;
        }
    }

    /// <summary>
    /// POST /options: unknown checkpoint → RuntimeError 500; unknown key → KeyError 500, nothing set; restrict_api keys
    /// ignored; a checkpoint loads at once (A1111 api.py:678-687; options.py:144-170).
    /// </summary>
    public void SetOptions(JsonObject body)
    {
        if (body.TryGetPropertyValue("sd_model_checkpoint", out var ckptNode) && PydanticFields.TryStr(ckptNode, out var ckpt)
            && Catalog.FindCheckpoint(ckpt) is null)
        {
            throw MockRouteException.Internal("RuntimeError", $"model '{ckpt}' not found");
        }

        lock (_gate)
        {
            foreach (var (key, _) in body)
            {
                if (!_options.ContainsKey(key))
                {
                    throw MockRouteException.Internal("KeyError", $"'{key}'");
                }
            }

            foreach (var (key, value) in body)
            {
                if (key is "api_enable_requests" or "api_forbid_local_requests" or "api_useragent")
                {
                    continue;
                }

                if (key == "sd_model_checkpoint" && PydanticFields.TryStr(value, out var id) && Catalog.FindCheckpoint(id) is { } info)
                {
                    _options[key] = info.Title;
                    _options["sd_checkpoint_hash"] = info.Sha256;
                    LoadLocked(info); // the option's onchange callback reloads the weights
                    continue;
                }

                _options[key] = value?.DeepClone();
            }
        }
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

    private static Dictionary<string, JsonNode?> DefaultOptions() => new(StringComparer.Ordinal)
    {
        ["samples_save"] = true,
        ["save_init_img"] = false,
        ["control_net_detectmap_autosaving"] = false,
        ["samples_format"] = "png",
        ["grid_save"] = true,
        ["return_grid"] = true,
        ["jpeg_quality"] = 80,
        ["webp_lossless"] = false,
        ["sd_model_checkpoint"] = Catalog.Checkpoints[0].Title,
        ["sd_checkpoint_hash"] = Catalog.Checkpoints[0].Sha256,
        ["sd_vae"] = "Automatic",
        ["CLIP_stop_at_last_layers"] = 1,
        ["eta_noise_seed_delta"] = 0,
        ["face_restoration"] = false,
        ["face_restoration_model"] = "CodeFormer",
        ["tiling"] = false,
        ["initial_noise_multiplier"] = 1.0,
        ["img2img_fix_steps"] = false,
        ["interrogate_deepbooru_score_threshold"] = 0.5,
        ["return_mask"] = false,
        ["return_mask_composite"] = false,
        ["show_progress_every_n_steps"] = 10,
        ["live_previews_enable"] = true,
        ["sd_vae_overrides_per_model_preferences"] = true,
        ["control_net_unit_count"] = Catalog.ControlNetUnitCount,
        ["control_net_model_cache_size"] = 2,
        ["control_net_no_detectmap"] = false,
        ["control_net_allow_script_control"] = false,
        ["controlnet_clip_detector_on_cpu"] = false,
        ["api_enable_requests"] = true,
        ["api_forbid_local_requests"] = true,
        ["api_useragent"] = "",
    };
}

/// <summary>What a render loaded (<see cref="MockState.LoadForRender"/>) and the checkpoint option as it was before.</summary>
internal sealed record CheckpointLoad(CheckpointInfo Loaded, bool Switched, JsonNode? OptionTitle, JsonNode? OptionHash);
