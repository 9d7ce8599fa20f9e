using System.Text.Json.Nodes;

namespace Miaoya.MockWebUi.Tests;

public sealed class MockStateTests
{
    private const string Sd15 = "v1-5-pruned-emaonly.safetensors [6ce0161689]";
    private const string Chillout = "chilloutmix_NiPrunedFp32Fix.safetensors [fc2511737a]";

    private readonly MockState _state = new();

    [Fact]
    public void New_LoadsTheCheckpointTheOptionNames()
    {
        Assert.Equal(Chillout, _state.LoadedCheckpoint);
        Assert.Equal(Chillout, _state.OptionsJson()["sd_model_checkpoint"]!.GetValue<string>());
        Assert.Equal(0, _state.ModelSwitches);
    }

    [Fact]
    public void LoadForRender_AnOverride_LoadsIt_AndRestoringPutsOnlyTheOptionBack()
    {
        var load = _state.LoadForRender(Catalog.FindCheckpoint("v1-5-pruned-emaonly"));

        Assert.True(load.Switched);
        Assert.Equal(Sd15, load.Loaded.Title);
        Assert.Equal(Sd15, _state.OptionString("sd_model_checkpoint", ""));

        _state.RestoreCheckpointOption(load);

        Assert.Equal(Chillout, _state.OptionString("sd_model_checkpoint", ""));
        Assert.Equal(Sd15, _state.LoadedCheckpoint);
        Assert.Equal(1, _state.ModelSwitches);
    }

    [Fact]
    public void LoadForRender_NoOverrideAfterOne_SwitchesBackToTheOptionsCheckpoint()
    {
        _state.RestoreCheckpointOption(_state.LoadForRender(Catalog.FindCheckpoint("v1-5-pruned-emaonly")));

        var back = _state.LoadForRender(null);
        var again = _state.LoadForRender(null);

        Assert.Equal((true, Chillout), (back.Switched, back.Loaded.Title));
        Assert.False(again.Switched);
        Assert.Equal(2, _state.ModelSwitches);
    }

    [Fact]
    public void SetOptions_Checkpoint_LoadsAtOnce()
    {
        _state.SetOptions(new JsonObject { ["sd_model_checkpoint"] = "v1-5-pruned-emaonly" });

        Assert.Equal(Sd15, _state.LoadedCheckpoint);
        Assert.Equal(Sd15, _state.OptionString("sd_model_checkpoint", ""));
        Assert.Equal("6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa", _state.OptionString("sd_checkpoint_hash", ""));
        Assert.Equal(1, _state.ModelSwitches);
    }

    [Fact]
    public void SetOptions_AnUnknownKey_IsKeyError_AfterTheKeysBeforeIt()
    {
        // set_config calls opts.set per key in order (A1111@82a973c modules/api/api.py:683-684); set looks the key up
        // in data_labels only after comparing with the current value (modules/options.py:147-151).
        var e = Assert.Throws<MockRouteException>(() => _state.SetOptions(new JsonObject { ["jpeg_quality"] = 90, ["nope"] = 1, ["webp_lossless"] = true }));

        Assert.Equal("""{"error":"KeyError","detail":"","body":"","errors":"'nope'"}""", e.ToResult().Body);
        Assert.Equal("90", _state.OptionString("jpeg_quality", ""));
        Assert.False(_state.OptionFlag("webp_lossless"));
    }

    [Fact]
    public void SetOptions_AnUnknownCheckpoint_IsRuntimeError()
    {
        var e = Assert.Throws<MockRouteException>(() => _state.SetOptions(new JsonObject { ["sd_model_checkpoint"] = "nope" }));

        Assert.Equal((500, "model 'nope' not found"), (e.Status, e.Message));
        Assert.Equal(0, _state.ModelSwitches);
    }

    [Fact]
    public void SetOptions_RestrictedApiKeys_AreIgnored()
    {
        _state.SetOptions(new JsonObject { ["api_useragent"] = "x", ["samples_format"] = "jpg" });

        Assert.Equal(("", "jpg"), (_state.OptionString("api_useragent", "?"), _state.OptionString("samples_format", "")));
    }

    [Fact]
    public void GoDown_CountsAnEpoch_ComeBackKeepsIt()
    {
        _state.GoDown();
        Assert.True(_state.IsDown);

        _state.ComeBack();

        Assert.False(_state.IsDown);
        Assert.Equal(1, _state.DownEpoch);
    }
}
