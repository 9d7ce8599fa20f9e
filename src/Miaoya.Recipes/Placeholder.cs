namespace Miaoya.Recipes; internal static class Placeholder { }
