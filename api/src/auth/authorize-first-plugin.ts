import SchemaBuilder, { BasePlugin, completeValue, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { AuthScopeMap } from '@pothos/plugin-scope-auth';
import type { GraphQLFieldResolver } from 'graphql';

/**
 * Pothos maps (validates) arguments outside every plugin's resolver wrapper, so by default a caller
 * who may not call a root field would still have its input parsed and would see validation errors.
 * This plugin runs the field's own scopes before argument mapping; scope-auth, which runs later,
 * finds them cached for the request.
 */
/** Root fields' parent value, which scope-auth's error callback takes but Doorstep's ignores. */
const ROOT_PARENT = {};

class AuthorizeFirstPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapArgMappers(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    if (!resolver) return resolver;
    const isRoot = fieldConfig.kind === 'Query' || fieldConfig.kind === 'Mutation';
    const scopes = (fieldConfig.pothosOptions as { authScopes?: unknown }).authScopes;
    if (!isRoot || fieldConfig.argMappers.length === 0 || !scopes || typeof scopes === 'function') return resolver;
    // The same refusal scope-auth would give, from the builder's own option.
    const unauthorizedError = this.builder.options.scopeAuth?.unauthorizedError;
    return (parent, args, context, info) =>
      completeValue(
        this.builder.runAuthScopes(context, scopes as AuthScopeMap<Types>, unauthorizedError && ((result) => unauthorizedError(ROOT_PARENT, context, info, result))),
        () => resolver(parent, args, context, info),
      );
  }
}

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      authorizeFirst: AuthorizeFirstPlugin<Types>;
    }
  }
}

const pluginName = 'authorizeFirst';
SchemaBuilder.registerPlugin(pluginName, AuthorizeFirstPlugin);
export default pluginName;
