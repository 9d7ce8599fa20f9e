namespace Miaoya.Training.Tests;

public class RecipeTests
{
    private static readonly KohyaPaths Paths = new("/models/base.safetensors", "/data/anna/img/10_annaxyz", "annaxyz", "/runs/r1/loras", "anna_r16-adamw", "/runs/r1/sets/r16-adamw");

    [Fact]
    public void BuiltIn_HasFourSets_AndTheFileIsTheEmbeddedOne()
    {
        var recipe = LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName);

        Assert.Equal(["r16-adamw", "r32-adamw-fast", "r16-prodigy", "r32-face-512x768"], recipe.Sets.Select(s => s.Name));
        Assert.Equal(File.ReadAllText(TestFiles.RecipePath), LoraTrainingRecipe.ReadBuiltIn());
        var face = recipe.Sets[3];
        Assert.Equal(new TrainingResolution(512, 768), face.Resolution);
        Assert.Equal(CaptionStyle.Face, face.Caption);
        Assert.Equal(true, face.KohyaOptions["network_train_unet_only"]);
        Assert.Equal(32L, face.KohyaOptions["network_dim"]);
        Assert.Equal("networks.lora", face.KohyaOptions["network_module"]);
        Assert.Equal("Prodigy", recipe.Sets[2].KohyaOptions["optimizer_type"]);
        Assert.Equal(3, recipe.Validation.Seeds.Count);
        Assert.All(recipe.Validation.Prompts, p => Assert.Contains("{trigger}", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Overrides_BySetNameIndexAndDefaults()
    {
        var recipe = LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName, ["r16-adamw.network_dim=8", "2.unet_lr=3e-4", "defaults.seed=7", "validation.seeds=[5]", "1.optimizer_args=[a=1, b=2]"]);

        Assert.Equal(8L, recipe.Sets[0].KohyaOptions["network_dim"]);
        Assert.Equal(3e-4, recipe.Sets[1].KohyaOptions["unet_lr"]);
        Assert.All(recipe.Sets, s => Assert.Equal(7L, s.KohyaOptions["seed"]));
        Assert.Equal([5L], recipe.Validation.Seeds);
        Assert.Equal(["a=1", "b=2"], (string[])recipe.Sets[0].KohyaOptions["optimizer_args"]);
    }

    [Fact]
    public void Problems_AreAllListed_WithPositions()
    {
        const string yaml = """
            version: 1
            sets:
              - name: a
                network_dim: 16
                network_alpha: 32
                optimizer_type: AdamW
                unet_lr: 1e-4
                max_train_steps: 100
                max_train_epochs: 3
                mixed_precision: fp8
                netwrok_dim: 4
                output_dir: /tmp
              - name: a
                network_dim: x
            colour: red
            """;
        var e = Assert.Throws<TrainingException>(() => LoraTrainingRecipe.Parse(yaml, "t.yaml", ["zz.network_dim=1"]));
        var message = e.Message;

        Assert.True(e.IsBadInput);
        Assert.Contains("t.yaml:15:1: colour: unknown key", message, StringComparison.Ordinal);
        Assert.Contains("t.yaml:10:22: a.mixed_precision: 'fp8' is not one of no, fp16, bf16.", message, StringComparison.Ordinal);
        Assert.Contains("t.yaml:11:18: a.netwrok_dim: unknown key", message, StringComparison.Ordinal);
        Assert.Contains("a.output_dir: set by the orchestrator", message, StringComparison.Ordinal);
        Assert.Contains("a: set exactly one of max_train_steps and max_train_epochs", message, StringComparison.Ordinal);
        Assert.Contains("a.network_alpha: 32 is above network_dim 16", message, StringComparison.Ordinal);
        Assert.Contains("'a' is used twice", message, StringComparison.Ordinal);
        Assert.Contains("a.network_dim: 'x' is not an integer", message, StringComparison.Ordinal);
        Assert.Contains("--set zz.network_dim=1: no set 'zz'; the sets are 1=a, 2=a", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderConfig_WritesKohyaOptionNamesWithTomlTypes()
    {
        var set = LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName).Sets[0];
        var toml = KohyaConfig.RenderConfig(set, Paths);

        Assert.Contains("\n[model]\npretrained_model_name_or_path = \"/models/base.safetensors\"\n", toml, StringComparison.Ordinal);
        Assert.Contains("dataset_config = \"/runs/r1/sets/r16-adamw/dataset.toml\"\n", toml, StringComparison.Ordinal);
        Assert.Contains("resolution = \"512,512\"\n", toml, StringComparison.Ordinal);
        Assert.Contains("output_dir = \"/runs/r1/loras\"\noutput_name = \"anna_r16-adamw\"\n", toml, StringComparison.Ordinal);
        Assert.Contains("network_module = \"networks.lora\"\n", toml, StringComparison.Ordinal);
        Assert.Contains("network_dim = 16\n", toml, StringComparison.Ordinal);
        Assert.Contains("network_alpha = 8.0\n", toml, StringComparison.Ordinal);
        Assert.Contains("unet_lr = 0.0001\n", toml, StringComparison.Ordinal);
        Assert.Contains("text_encoder_lr = 5e-05\n", toml, StringComparison.Ordinal);
        Assert.Contains("max_train_epochs = 10\n", toml, StringComparison.Ordinal);
        Assert.Contains("save_model_as = \"safetensors\"\n", toml, StringComparison.Ordinal);
        Assert.Contains("gradient_checkpointing = true\n", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("repeats", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("caption =", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderDatasetConfig_UsesTheSetsRepeatsAndCaptionFiles()
    {
        var set = LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName, ["4.repeats=6"]).Sets[3];
        var toml = KohyaConfig.RenderDatasetConfig(set, Paths);

        Assert.Contains("[[datasets]]\nresolution = [512, 768]\nbatch_size = 2\nenable_bucket = false\n", toml, StringComparison.Ordinal);
        Assert.Contains("[[datasets.subsets]]\nimage_dir = \"/data/anna/img/10_annaxyz\"\nnum_repeats = 6\ncaption_extension = \".face.txt\"\nclass_tokens = \"annaxyz\"\n", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderCommand_QuotesPlaceholders()
    {
        var set = LoraTrainingRecipe.Load(LoraTrainingRecipe.BuiltInName).Sets[0];
        var paths = Paths with { SetFolder = "/runs/my run/sets/a" };

        Assert.Equal("accelerate launch --num_cpu_threads_per_process 1 train_network.py --config_file '/runs/my run/sets/a/config.toml'", KohyaConfig.RenderCommand(KohyaConfig.DefaultCommand, set, paths));
        Assert.Equal("'it'\\''s'", KohyaConfig.ShellQuote("it's"));
    }

    [Fact]
    public void Toml_EscapesStrings_AndKeepsFloatsFloats()
    {
        Assert.Equal("\"a\\\"b\\\\c\\nd\\u0001\"", TomlWriter.Quote("a\"b\\c\nd\u0001"));
        Assert.Equal("1.0", TomlWriter.Format(1.0));
        Assert.Equal("1e-05", TomlWriter.Format(1e-5));
        Assert.Equal("[\"x\", \"y\"]", TomlWriter.Format(new[] { "x", "y" }));
        Assert.Equal("\"a b\"", TomlWriter.Key("a b"));
        Assert.Equal("a_b-c", TomlWriter.Key("a_b-c"));
    }
}
