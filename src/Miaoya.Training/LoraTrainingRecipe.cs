using Miaoya.Limits;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Miaoya.Training;

/// <summary>How a parameter set's captions are written: all tags, or the trigger and face words only.</summary>
public enum CaptionStyle
{
    /// <summary>trigger, face words, tagger tags (identity-leaking tags dropped): <c>NNN.txt</c>.</summary>
    Full,

    /// <summary>trigger and face words only: <c>NNN.face.txt</c>.</summary>
    Face,
}

/// <summary>One parameter set: kohya <c>train_network.py</c> options plus resolution, repeats and caption style.</summary>
public sealed record ParameterSet(string Name, int Index, IReadOnlyDictionary<string, object> KohyaOptions, TrainingResolution Resolution, int Repeats, CaptionStyle Caption);

/// <summary>Validation portraits: txt2img with fixed seeds and prompts, <c>&lt;lora:NAME:WEIGHT&gt;</c> in front.</summary>
public sealed record ValidationSettings(
    IReadOnlyList<string> Prompts, string NegativePrompt, IReadOnlyList<long> Seeds, double LoraWeight, string Sampler, int Steps, double CfgScale, int Width, int Height);

/// <summary>recipes/training/lora-training.yaml: the parameter sets and the validation settings.</summary>
public sealed record LoraTrainingRecipe(string Source, IReadOnlyList<ParameterSet> Sets, ValidationSettings Validation)
{
    /// <summary>The built-in recipe's name.</summary>
    public const string BuiltInName = "lora-training";

    private enum Kind
    {
        Int,
        Float,
        Bool,
        Text,
        TextList,
        Resolution,
        Caption,
    }

    private sealed record Spec(string Key, Kind Kind, double Min = double.MinValue, double Max = double.MaxValue, string[]? Choices = null);

    // train_network.py options accepted in a set, with the types of their argparse definitions
    // (kohya-ss/sd-scripts library/train_util.py add_*_arguments and train_network.py setup_parser, read at 48d368f).
    private static readonly Spec[] KohyaSpecs =
    [
        new("network_module", Kind.Text),
        new("network_dim", Kind.Int, 1, 1024),
        new("network_alpha", Kind.Float, 0, 1024),
        new("network_args", Kind.TextList),
        new("network_train_unet_only", Kind.Bool),
        new("network_train_text_encoder_only", Kind.Bool),
        new("learning_rate", Kind.Float, 0, 10),
        new("unet_lr", Kind.Float, 0, 10),
        new("text_encoder_lr", Kind.Float, 0, 10),
        new("optimizer_type", Kind.Text),
        new("optimizer_args", Kind.TextList),
        new("lr_scheduler", Kind.Text, Choices: ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "adafactor"]),
        new("lr_warmup_steps", Kind.Int, 0, 1_000_000),
        new("lr_scheduler_num_cycles", Kind.Int, 1, 1000),
        new("max_train_steps", Kind.Int, 1, 10_000_000),
        new("max_train_epochs", Kind.Int, 1, 100_000),
        new("train_batch_size", Kind.Int, 1, 256),
        new("gradient_accumulation_steps", Kind.Int, 1, 1024),
        new("mixed_precision", Kind.Text, Choices: ["no", "fp16", "bf16"]),
        new("save_precision", Kind.Text, Choices: ["float", "fp16", "bf16"]),
        // Only safetensors: installing and ranking look for NAME.safetensors (get_last_ckpt_name: output_name + "." + save_model_as).
        new("save_model_as", Kind.Text, Choices: ["safetensors"]),
        new("save_every_n_epochs", Kind.Int, 1, 100_000),
        new("seed", Kind.Int, 0, uint.MaxValue),
        new("clip_skip", Kind.Int, 1, 12),
        new("gradient_checkpointing", Kind.Bool),
        new("cache_latents", Kind.Bool),
        new("sdpa", Kind.Bool),
        new("xformers", Kind.Bool),
        new("max_data_loader_n_workers", Kind.Int, 0, 256),
        new("persistent_data_loader_workers", Kind.Bool),
        new("shuffle_caption", Kind.Bool),
        new("keep_tokens", Kind.Int, 0, 255),
        new("noise_offset", Kind.Float, 0, 1),
        new("min_snr_gamma", Kind.Float, 0, 100),
        new("max_token_length", Kind.Int, 75, 225, ["75", "150", "225"]),
        new("v2", Kind.Bool),
        new("v_parameterization", Kind.Bool),
    ];

    // Ours, not passed to the trainer as options.
    private static readonly Spec[] OwnSpecs =
    [
        new("resolution", Kind.Resolution),
        new("repeats", Kind.Int, 1, 10_000),
        new("caption", Kind.Caption),
    ];

    private static readonly Spec[] ValidationSpecs =
    [
        new("prompts", Kind.TextList),
        new("negative_prompt", Kind.Text),
        new("seeds", Kind.TextList),
        new("lora_weight", Kind.Float, -2, 2),
        new("sampler", Kind.Text),
        new("steps", Kind.Int, 1, 150),
        new("cfg_scale", Kind.Float, 1, 30),
        new("width", Kind.Int, 64, 2048),
        new("height", Kind.Int, 64, 2048),
    ];

    /// <summary>Loads a file, or the built-in recipe when <paramref name="pathOrName"/> is <see cref="BuiltInName"/>.</summary>
    public static LoraTrainingRecipe Load(string pathOrName, IEnumerable<string>? overrides = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrName);
        if (File.Exists(pathOrName))
        {
            string text;
            try
            {
                text = BoundedFile.ReadAllText(pathOrName, InputLimits.Yaml.MaxDocumentChars, "training recipe");
            }
            catch (InputLimitException e)
            {
                throw new TrainingException(e.Message, badInput: true, e);
            }

            return Parse(text, pathOrName, overrides);
        }

        if (pathOrName == BuiltInName)
        {
            return Parse(ReadBuiltIn(), $"recipes/training/{BuiltInName}.yaml", overrides);
        }

        throw new TrainingException($"{pathOrName}: no such recipe file; the built-in training recipe is '{BuiltInName}'.", badInput: true);
    }

    /// <summary>The text of recipes/training/lora-training.yaml (embedded).</summary>
    public static string ReadBuiltIn()
    {
        using var stream = typeof(LoraTrainingRecipe).Assembly.GetManifestResourceStream("Miaoya.Training.lora-training.yaml")
            ?? throw new InvalidOperationException("the built-in training recipe is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Parses recipe text. Every problem is collected and thrown at once as <c>file:line:column: path: message</c>.
    /// Overrides are <c>SET.KEY=VALUE</c> where SET is a set's name, its 1-based index, <c>defaults</c> or <c>validation</c>;
    /// VALUE is YAML (<c>1e-4</c>, <c>true</c>, <c>[a, b]</c>).
    /// </summary>
    public static LoraTrainingRecipe Parse(string yaml, string source, IEnumerable<string>? overrides = null)
    {
        var problems = new List<string>();
        YamlMappingNode root;
        try
        {
            var stream = BoundedYaml.Load(yaml);
            root = stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode m
                ? m
                : throw new TrainingException($"{source}: expected one YAML document holding a mapping.", badInput: true);
        }
        catch (YamlException e)
        {
            throw new TrainingException($"{source}:{e.Start.Line}:{e.Start.Column}: {(e as YamlLimitException)?.Reason ?? e.Message}", badInput: true, e);
        }

        string At(YamlNode node) => $"{source}:{node.Start.Line}:{node.Start.Column}";

        var defaults = new Dictionary<string, (YamlNode Node, string Where)>(StringComparer.Ordinal);
        var sets = new List<(string Name, YamlNode NameNode, Dictionary<string, (YamlNode Node, string Where)> Values)>();
        var validation = new Dictionary<string, (YamlNode Node, string Where)>(StringComparer.Ordinal);

        foreach (var (keyNode, value) in root.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            switch (key)
            {
                case "version":
                    if (value is not YamlScalarNode { Value: "1" })
                    {
                        problems.Add($"{At(value)}: version: only version 1 is known.");
                    }

                    break;
                case "defaults":
                    ReadMapping(value, "defaults", defaults);
                    break;
                case "validation":
                    ReadMapping(value, "validation", validation);
                    break;
                case "sets":
                    if (value is not YamlSequenceNode sequence)
                    {
                        problems.Add($"{At(value)}: sets: expected a list of parameter sets.");
                        break;
                    }

                    foreach (var item in sequence)
                    {
                        var values = new Dictionary<string, (YamlNode Node, string Where)>(StringComparer.Ordinal);
                        ReadMapping(item, $"sets[{sets.Count + 1}]", values);
                        var name = values.Remove("name", out var n) && n.Node is YamlScalarNode { Value: { } v } ? v : "";
                        if (!IsSafeName(name))
                        {
                            problems.Add($"{At(item)}: sets[{sets.Count + 1}].name: '{name}' must be 1-40 letters, digits, '-' or '_' (it names files).");
                        }
                        else if (sets.Any(s => s.Name == name))
                        {
                            problems.Add($"{At(item)}: sets[{sets.Count + 1}].name: '{name}' is used twice.");
                        }

                        sets.Add((name, item, values));
                    }

                    break;
                default:
                    problems.Add($"{At(keyNode)}: {key}: unknown key; expected version, defaults, sets, validation.");
                    break;
            }
        }

        if (sets.Count == 0)
        {
            problems.Add($"{source}: sets: at least one parameter set is required.");
        }

        foreach (var text in overrides ?? [])
        {
            var eq = text.IndexOf('=', StringComparison.Ordinal);
            var dot = eq > 0 ? text.LastIndexOf('.', eq) : -1;
            if (eq <= 0 || dot <= 0)
            {
                problems.Add($"--set {text}: expected SET.KEY=VALUE (SET: a set's name or 1-based index, defaults, validation).");
                continue;
            }

            var (target, key, valueText) = (text[..dot], text[(dot + 1)..eq], text[(eq + 1)..]);
            YamlNode node;
            try
            {
                node = BoundedYaml.Load(valueText.Length == 0 ? "''" : valueText).Documents[0].RootNode;
            }
            catch (YamlException e)
            {
                problems.Add($"--set {text}: the value is not YAML: {e.Message}");
                continue;
            }

            var where = $"--set {text}";
            if (target == "defaults")
            {
                defaults[key] = (node, where);
            }
            else if (target == "validation")
            {
                validation[key] = (node, where);
            }
            else if (int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index >= 1 && index <= sets.Count)
            {
                sets[index - 1].Values[key] = (node, where);
            }
            else if (sets.FirstOrDefault(s => s.Name == target) is { Values: { } values })
            {
                values[key] = (node, where);
            }
            else
            {
                problems.Add($"--set {text}: no set '{target}'; the sets are {string.Join(", ", sets.Select((s, i) => $"{i + 1}={s.Name}"))}, or defaults, validation.");
            }
        }

        var resolvedSets = new List<ParameterSet>();
        for (var i = 0; i < sets.Count; i++)
        {
            var (name, _, values) = sets[i];
            var merged = new Dictionary<string, (YamlNode Node, string Where)>(defaults, StringComparer.Ordinal);
            foreach (var (k, v) in values)
            {
                merged[k] = v;
            }

            var kohya = new SortedDictionary<string, object>(StringComparer.Ordinal);
            TrainingResolution resolution = TrainingResolution.Square512;
            var repeats = 10;
            var caption = CaptionStyle.Full;
            foreach (var (key, (node, where)) in merged)
            {
                var path = $"{name}.{key}";
                if (OwnSpecs.FirstOrDefault(s => s.Key == key) is { } own)
                {
                    switch (Convert(own, node, where, path, problems))
                    {
                        case TrainingResolution r: resolution = r; break;
                        case long l: repeats = (int)l; break;
                        case CaptionStyle c: caption = c; break;
                        default: break;
                    }
                }
                else if (KohyaSpecs.FirstOrDefault(s => s.Key == key) is { } spec)
                {
                    if (Convert(spec, node, where, path, problems) is { } value)
                    {
                        kohya[key] = value;
                    }
                }
                else if (key is "pretrained_model_name_or_path" or "output_dir" or "output_name" or "train_data_dir" or "dataset_config" or "caption_extension")
                {
                    problems.Add($"{where}: {path}: set by the orchestrator (from --base-model, the dataset and --out); remove it.");
                }
                else
                {
                    problems.Add($"{where}: {path}: unknown key; known train_network.py options: {string.Join(", ", KohyaSpecs.Select(s => s.Key))}; ours: resolution, repeats, caption.");
                }
            }

            var hasSteps = kohya.ContainsKey("max_train_steps");
            var hasEpochs = kohya.ContainsKey("max_train_epochs");
            if (hasSteps == hasEpochs)
            {
                // train_network.py: max_train_epochs, when given, overrides max_train_steps (whose default is 1600).
                problems.Add($"{source}: {name}: set exactly one of max_train_steps and max_train_epochs (train_network.py lets epochs override steps silently).");
            }

            if (!kohya.ContainsKey("network_dim"))
            {
                problems.Add($"{source}: {name}.network_dim: required (the LoRA rank).");
            }

            if (!kohya.ContainsKey("optimizer_type"))
            {
                problems.Add($"{source}: {name}.optimizer_type: required (e.g. AdamW8bit, Prodigy).");
            }

            if (!kohya.ContainsKey("unet_lr") && !kohya.ContainsKey("learning_rate"))
            {
                problems.Add($"{source}: {name}: set unet_lr or learning_rate.");
            }

            if (kohya.TryGetValue("network_alpha", out var alpha) && kohya.TryGetValue("network_dim", out var dim) && (double)alpha > (long)dim)
            {
                problems.Add($"{source}: {name}.network_alpha: {alpha} is above network_dim {dim} (alpha/dim scales the LoRA's output above 1).");
            }

            kohya.TryAdd("network_module", "networks.lora");
            kohya.TryAdd("save_model_as", "safetensors");
            resolvedSets.Add(new ParameterSet(name, i + 1, kohya, resolution, repeats, caption));
        }

        var vs = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, (node, where)) in validation)
        {
            if (ValidationSpecs.FirstOrDefault(s => s.Key == key) is { } spec)
            {
                if (Convert(spec, node, where, $"validation.{key}", problems) is { } value)
                {
                    vs[key] = value;
                }
            }
            else
            {
                problems.Add($"{where}: validation.{key}: unknown key; expected {string.Join(", ", ValidationSpecs.Select(s => s.Key))}.");
            }
        }

        var seeds = new List<long>();
        foreach (var s in vs.TryGetValue("seeds", out var seedList) ? (IReadOnlyList<string>)seedList : ["1001", "2002"])
        {
            if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) && seed >= 0)
            {
                seeds.Add(seed);
            }
            else
            {
                problems.Add($"{source}: validation.seeds: '{s}' is not a non-negative integer (fixed seeds make the comparison fair).");
            }
        }

        var prompts = vs.TryGetValue("prompts", out var p) ? (IReadOnlyList<string>)p : ["photo of {trigger}, upper body, looking at viewer"];
        if (prompts.Count == 0 || prompts.Any(x => !x.Contains("{trigger}", StringComparison.Ordinal)))
        {
            problems.Add($"{source}: validation.prompts: at least one prompt, each containing {{trigger}}.");
        }

        if (problems.Count > 0)
        {
            throw new TrainingException("the training recipe has problems:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(x => "  " + x)), badInput: true);
        }

        var settings = new ValidationSettings(
            prompts,
            vs.TryGetValue("negative_prompt", out var neg) ? (string)neg : "",
            seeds,
            vs.TryGetValue("lora_weight", out var w) ? (double)w : 0.8,
            vs.TryGetValue("sampler", out var sampler) ? (string)sampler : "DPM++ 2M Karras",
            vs.TryGetValue("steps", out var steps) ? (int)(long)steps : 25,
            vs.TryGetValue("cfg_scale", out var cfg) ? (double)cfg : 7,
            vs.TryGetValue("width", out var width) ? (int)(long)width : 512,
            vs.TryGetValue("height", out var height) ? (int)(long)height : 768);
        return new LoraTrainingRecipe(source, resolvedSets, settings);

        void ReadMapping(YamlNode node, string path, Dictionary<string, (YamlNode Node, string Where)> into)
        {
            if (node is not YamlMappingNode mapping)
            {
                problems.Add($"{At(node)}: {path}: expected a mapping.");
                return;
            }

            foreach (var (k, value) in mapping.Children)
            {
                into[((YamlScalarNode)k).Value ?? ""] = (value, At(value));
            }
        }
    }

    internal static bool IsSafeName(string name) =>
        name.Length is > 0 and <= 40 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static object? Convert(Spec spec, YamlNode node, string where, string path, List<string> problems)
    {
        if (spec.Kind == Kind.TextList)
        {
            if (node is YamlSequenceNode seq && seq.All(n => n is YamlScalarNode))
            {
                return seq.Select(n => ((YamlScalarNode)n).Value ?? "").ToArray();
            }

            problems.Add($"{where}: {path}: expected a list of strings, e.g. [a, b].");
            return null;
        }

        if (node is not YamlScalarNode { Value: { } text })
        {
            problems.Add($"{where}: {path}: expected a single value.");
            return null;
        }

        switch (spec.Kind)
        {
            case Kind.Int:
                if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l >= spec.Min && l <= spec.Max
                    && (spec.Choices is null || spec.Choices.Contains(text)))
                {
                    return l;
                }

                problems.Add($"{where}: {path}: '{text}' is not {(spec.Choices is null ? $"an integer in {spec.Min:0}..{spec.Max:0}" : $"one of {string.Join(", ", spec.Choices)}")}.");
                return null;
            case Kind.Float:
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= spec.Min && d <= spec.Max)
                {
                    return d;
                }

                problems.Add($"{where}: {path}: '{text}' is not a number in {spec.Min.ToString(CultureInfo.InvariantCulture)}..{spec.Max.ToString(CultureInfo.InvariantCulture)}.");
                return null;
            case Kind.Bool:
                if (text is "true" or "false")
                {
                    return text == "true";
                }

                problems.Add($"{where}: {path}: '{text}' is not true or false.");
                return null;
            case Kind.Resolution:
                if (TrainingResolution.TryParse(text, out var r, out var error))
                {
                    return r;
                }

                problems.Add($"{where}: {path}: {error}.");
                return null;
            case Kind.Caption:
                if (text is "full" or "face")
                {
                    return text == "full" ? CaptionStyle.Full : CaptionStyle.Face;
                }

                problems.Add($"{where}: {path}: '{text}' is not full or face.");
                return null;
            default:
                if (spec.Choices is not null && !spec.Choices.Contains(text, StringComparer.Ordinal))
                {
                    problems.Add($"{where}: {path}: '{text}' is not one of {string.Join(", ", spec.Choices)}.");
                    return null;
                }

                return text;
        }
    }
}
